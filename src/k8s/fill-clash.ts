// `k8s --fill` inputs whose outputs would land on one another or on a file of the user's, refused before anything
// is read or written; and the header that marks an output as ours, so a later fill knows it may replace it.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError } from '../errors.js';
import { fileStartsWith } from '../util/generated-file.js';
import type { DeployInput } from './input.js';
import { K8S_SPEC_MARK } from './output.js';

/**
 * Inputs that would be written over each other: `--out` names each output after its input's file name, so
 * `a/fleet.yaml b/fleet.yaml` wrote the second over the first; `-` twice read stdin twice, the second time empty.
 */
export function refuseFillClashes(files: string[], out: string | undefined): void {
  if (files.filter((f) => f === '-').length > 1) throw new GamelayerError('fill.usage', '--fill: "-" (stdin) given twice; stdin can be read once', 'give - once');
  if (out === undefined) return;
  const seen = new Map<string, string>();
  for (const file of files) {
    const name = fillOutputName(file);
    const first = seen.get(name);
    if (first !== undefined && path.resolve(first) !== path.resolve(file)) {
      throw new GamelayerError('fill.usage', `--fill ${first} and ${file}: both would be written to ${path.join(out, name)}, the second over the first`, 'fill them into separate --out folders (one run each), or use --in-place');
    }
    seen.set(name, file);
  }
}

/** The file `--fill FILE --out DIR` writes in DIR: the input's name (`stdin.yaml` for `-`). */
export function fillOutputName(file: string): string {
  return file === '-' ? 'stdin.yaml' : path.basename(file);
}

/** How a manifest `--fill --out` wrote begins (after a byte order mark the input had): how a folder is known to hold one. */
export const FILL_MARK = '# Filled by gamelayer k8s --fill ';
const BOM = '\uFEFF';

/**
 * The output's text: the filled text under a header of ours, which is how the next fill into that folder knows the
 * file as its own (a spec's header would make `k8s --out` take it for a spec). An input that is itself an output
 * keeps one header.
 */
export function withFillHeader(text: string, file: string, input: Pick<DeployInput, 'game' | 'tag'>): string {
  const bom = text.startsWith(BOM) ? BOM : '';
  let body = text.slice(bom.length);
  if (body.startsWith(FILL_MARK)) body = body.slice(body.indexOf('\n') + 1 || body.length);
  const name = path.basename(file).replace(/[\r\n]/g, ' ');
  return `${bom}${FILL_MARK}from ${name} (build ${input.game} ${input.tag}); fill it again rather than editing.\n${body}`;
}

async function isFillOutput(file: string): Promise<boolean> {
  return (await fileStartsWith(file, FILL_MARK)) || fileStartsWith(file, BOM + FILL_MARK);
}

/**
 * `--fill FILE --out DIR` where DIR/<name> is the input itself (use --in-place: it writes through a link and keeps
 * the file's mode), or a spec `k8s --out` wrote (`--out deploy`, its folder): the filled manifest replaced that spec
 * without a word, and `kubectl apply -f deploy` no longer applied it; or any other file a fill did not write there
 * (a manifest of the user's own of that name was replaced without a word). Refused unless `force` (all but the
 * first).
 */
export async function refuseFillOverOwnFiles(files: string[], out: string, force: boolean | undefined): Promise<void> {
  for (const file of files) {
    const target = path.resolve(out, fillOutputName(file));
    const realTarget = await realpath(target).catch(() => undefined);
    if (realTarget === undefined) continue;
    if (file !== '-' && realTarget === (await realpath(file).catch(() => path.resolve(file)))) {
      throw new GamelayerError('fill.usage', `--fill ${file} --out ${out}: the output ${target} is the input itself`, 'pass --in-place to rewrite it (through a link, keeping its mode), or --out another folder');
    }
    if (force) continue;
    if (await fileStartsWith(target, K8S_SPEC_MARK)) {
      throw new GamelayerError(
        'cli.out-exists',
        `${target}: a spec gamelayer k8s wrote; the filled ${file} would replace it, and kubectl apply -f ${out} would no longer apply that spec`,
        'fill into a folder of its own (--out filled), or pass --force to replace it',
      );
    }
    // A folder there is refused where the file is written; an empty file holds nothing to lose.
    const there = await stat(target);
    if (!there.isFile() || there.size === 0 || (await isFillOutput(target))) continue;
    throw new GamelayerError(
      'cli.out-exists',
      `${target}: exists and gamelayer k8s --fill did not write it (no "${FILL_MARK.trim()}" header); the filled ${file} would replace it`,
      'fill into a folder of its own (--out filled), move the file away, or pass --force to replace it',
    );
  }
}
