// Ctrl-C (or a CI's SIGTERM) once `build --push --sbom/--sign` had pushed, while it attached the SBOM and signed,
// ended the process, exit 130, without a word: the build was in the registry, unsigned, and nothing said so. A stop
// then says where the build is, what of the SBOM and signatures is not there, and the command that finishes it: the
// same build again, planned on the build pushed (no other command attaches a build's SBOM, and one signed by
// `gamelayer sign` is not the build's: build --sign warns of it).
import type { Command } from 'commander';
import { shellWord } from '../util/shell-word.js';
import { signalName, type StopSignal } from './stop-signal.js';

/** What a `build --push` asked to attach after its push, and how far it got. */
export interface SupplyProgress {
  tag: string;
  sbom: boolean;
  sign: boolean;
  /** The repositories the build is pushed to (every image and its record), each to get the SBOM and signatures. */
  pushed: string[];
  /** Repositories whose SBOM is attached. */
  sbomAttached: Set<string>;
  /** Repositories whose SBOM and signatures are all there. */
  done: Set<string>;
  /** Repositories whose signing has started: how many of their images are signed. */
  signing: Map<string, { signed: number; of: number }>;
}

/** The line a `build --push` stopped while attaching its SBOM or signatures prints. */
export function supplyInterruptedText(signal: StopSignal, p: SupplyProgress, rerun: Rerun | undefined): string {
  const what = [p.sbom ? 'SBOM' : '', p.sign ? 'signatures' : ''].filter(Boolean).join(' and ');
  const states = p.pushed.map((repo) => `${p.pushed.length > 1 ? `${repo}: ` : ''}${repositoryState(p, repo)}`);
  return (
    `build --push stopped by ${signalName(signal)} after the push, while attaching its ${what}: the build ${p.tag} is pushed to ${p.pushed.join(', ')} ` +
    `(every image and its record); ${states.join('; ')}; ` +
    (rerun ? `run the build again to attach them: ${rerun(`${p.pushed[0]}:${p.tag}`)} (planned on the build pushed: nothing is built or pushed again)` : 'run the same command again to attach them')
  );
}

function repositoryState(p: SupplyProgress, repo: string): string {
  if (p.done.has(repo)) return [p.sbom ? 'its SBOM is attached' : '', p.sign ? 'its images are signed' : ''].filter(Boolean).join(' and ');
  const sbom = p.sbom && p.sbomAttached.has(repo);
  // Signing comes after the SBOM: none of it is done while the SBOM is not there.
  const count = p.signing.get(repo);
  const signed = !p.sign ? '' : p.sbom && !sbom ? 'nothing is signed' : count ? `${count.signed} of ${count.of} images are signed` : 'its images are not all signed';
  return [p.sbom ? (sbom ? 'its SBOM is attached' : 'its SBOM is not attached') : '', signed].filter(Boolean).join(', ');
}

/** The command that builds the pushed build again, planned on it: `from` is where it is (host/repo:tag). */
export type Rerun = (from: string) => string;

/**
 * The command line the user ran, as shell words (commander keeps what it parsed), made to build the pushed build again
 * and nothing else: planned on it (`--from`) instead of on --rebase's nothing or another --from (either made a new
 * record, pushed again, and moved the line's tag), and at its tag (`tag`, when --tag was not given: a CodeBuild
 * default from the build number is another tag on a retry). Undefined without the words.
 */
export function rerunCommandOf(cmd: Command, tag: string | undefined): Rerun | undefined {
  const raw: unknown = (cmd.parent as { rawArgs?: unknown } | null)?.rawArgs;
  if (!Array.isArray(raw) || !raw.length) return undefined;
  const words: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const w = String(raw[i]);
    if (w === '--from') i++;
    else if (w !== '--rebase' && !w.startsWith('--from=')) words.push(w);
  }
  if (tag !== undefined) words.push('--tag', tag);
  return (from) => ['gamelayer', ...[...words, '--from', from].map(shellWord)].join(' ');
}
