// Ctrl-C (or a CI's SIGTERM) while `build --push` was still building, or after the build and before the push started,
// ended the process, exit 130, without a word; a stop during its push says what went up (push-interrupt.ts). A stop
// while it builds says how far the build got, that nothing was pushed, and that running again reuses what was built
// (the layers finished are in the local store, the scan's hashes in its cache); one once it is built says the build is
// there and how to push it; one once pushed, while the SBOM and signatures are attached, says what is not there yet
// (supply-interrupt.ts). One handler and one wrapper of the reporter serve the four phases.
import type { Command } from 'commander';
import { formatBytes, type Reporter } from '../report/reporter.js';
import { shellWord } from '../util/shell-word.js';
import { givenRegistryFlags } from './registry-flags.js';
import { interruptedText } from './push-interrupt.js';
import { countingReporter, type Packed, type StopCounts } from './stop-counts.js';
import { onStopSignal, signalName, type StopSignal } from './stop-signal.js';
import { supplyInterruptedText, type Rerun, type SupplyProgress } from './supply-interrupt.js';

/** The line a `build --push` stopped before its push prints. */
export function buildInterruptedText(signal: StopSignal, packed: Packed | undefined, repositories: readonly string[]): string {
  const done = packed ? `${formatBytes(packed.bytes)} of ${formatBytes(packed.total)} of new layers packed` : 'no layer packed yet';
  return (
    `build stopped by ${signalName(signal)} before the push: ${done}; nothing was pushed to ${repositories.join(', ')}; ` +
    'run the same command again: the layers finished and the scanned hashes are reused, not built again'
  );
}

/**
 * The line a `build --push` stopped between the end of its build and the start of its push prints. `pushCommand`
 * makes the push command for the references, with the flags the build was given that the push needs (pushCommandOf).
 */
export function builtInterruptedText(signal: StopSignal, tag: string, repositories: readonly string[], pushCommand: (refs: string[]) => string = defaultPush): string {
  return (
    `build --push stopped by ${signalName(signal)} after the build, before the push: the build ${tag} is in the local store; ` +
    `nothing was pushed to ${repositories.join(', ')}; push it with ${pushCommand(repositories.map((r) => `${r}:${tag}`))} ` +
    '(or run the same command again: nothing is built again)'
  );
}

const defaultPush = (refs: string[]) => `gamelayer push ${refs.map(shellWord).join(' ')}`;

/**
 * `gamelayer push REFS` as the build was asked to push: its -c, --line, --store and registry flags (a hint that
 * dropped them pushed with another config, onto the default line, or without the credentials or --insecure).
 */
export function pushCommandOf(cmd: Command, flags: { line?: string; store?: string }): (refs: string[]) => string {
  const root = cmd.parent;
  const config = root?.getOptionValueSource('config') === 'cli' ? ['-c', shellWord(String(root.getOptionValue('config')))] : [];
  const words = [
    ...(flags.line !== undefined ? ['--line', shellWord(flags.line)] : []),
    ...(flags.store !== undefined ? ['--store', shellWord(flags.store)] : []),
    ...givenRegistryFlags(cmd),
  ];
  return (refs) => ['gamelayer', ...config, 'push', ...refs.map(shellWord), ...words].join(' ');
}

export interface BuildPushInterrupt {
  /** The reporter the build and the push run with: it counts the new layers packed and the blobs sent. */
  reporter: Reporter;
  /** The build is done (its tag): a stop from now until the push says so. */
  built(tag: string): void;
  /**
   * Runs the push; a stop meanwhile says what went up (interruptedText). The handlers go when it ends, but with an SBOM
   * or signatures to attach (`supply` of armBuildInterrupt): once pushed to `pushedTo(result)`, a stop says so and what
   * is not attached (supplyInterruptedText), until `off()`.
   */
  pushing<T>(push: (reporter: Reporter) => Promise<T>, pushedTo?: (result: T) => string[]): Promise<T>;
  /** In `repository`, the SBOM is attached (`sbom`), or the SBOM and signatures are all there (`all`). */
  attached(repository: string, what: 'sbom' | 'all'): void;
  /** In `repository`, `signed` of its `of` images are signed (signImages' onProgress). */
  signing(repository: string, signed: number, of: number): void;
  /** The handlers go (a build that failed, or the command's end). */
  off(): void;
}

/** What `build --push` attaches after its push (--sbom, --sign), and the command that finishes it (rerunCommandOf). */
export interface SupplyAsked {
  sbom: boolean;
  sign: boolean;
  rerun?: Rerun;
}

/**
 * From now until the push ends (or `off()`), a SIGINT or SIGTERM prints the line of the phase `build --push` is in —
 * building, built, pushing, attaching (with `supply`) — and exits as the signal would. `reporter` is the one the
 * command runs with.
 */
export function armBuildInterrupt(reporter: Reporter, repositories: readonly string[], pushCommand?: (refs: string[]) => string, supply?: SupplyAsked): BuildPushInterrupt {
  const counts: StopCounts = { sent: { blobs: 0, bytes: 0, running: 0 } };
  let phase: { built?: string; pushing?: boolean; attaching?: SupplyProgress } = {};
  const off = onStopSignal((signal) =>
    phase.attaching
      ? supplyInterruptedText(signal, phase.attaching, supply?.rerun)
      : phase.pushing
        ? interruptedText(signal, counts.sent)
        : phase.built !== undefined
          ? builtInterruptedText(signal, phase.built, repositories, pushCommand)
          : buildInterruptedText(signal, counts.packed, repositories),
  );
  const counting = countingReporter(reporter, counts);
  return {
    reporter: counting,
    built: (tag) => void (phase = { built: tag }),
    async pushing(push, pushedTo) {
      const tag = phase.built ?? '';
      phase = { pushing: true };
      let attaching = false;
      try {
        const result = await push(counting);
        if (supply && (supply.sbom || supply.sign) && pushedTo) {
          phase = { attaching: { tag, sbom: supply.sbom, sign: supply.sign, pushed: pushedTo(result), sbomAttached: new Set(), done: new Set(), signing: new Map() } };
          attaching = true;
        }
        return result;
      } finally {
        if (!attaching) off();
      }
    },
    attached(repository, what) {
      phase.attaching?.[what === 'sbom' ? 'sbomAttached' : 'done'].add(repository);
    },
    signing(repository, signed, of) {
      phase.attaching?.signing.set(repository, { signed, of });
    },
    off,
  };
}
