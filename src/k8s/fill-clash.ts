// `k8s --fill` inputs whose outputs would land on one another, refused before anything is read or written.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError } from '../errors.js';
import { fileStartsWith } from '../util/generated-file.js';
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
    const name = file === '-' ? 'stdin.yaml' : path.basename(file);
    const first = seen.get(name);
    if (first !== undefined && path.resolve(first) !== path.resolve(file)) {
      throw new GamelayerError('fill.usage', `--fill ${first} and ${file}: both would be written to ${path.join(out, name)}, the second over the first`, 'fill them into separate --out folders (one run each), or use --in-place');
    }
    seen.set(name, file);
  }
}

/**
 * `--fill FILE --out DIR` where DIR/<name> is the input itself (use --in-place: it writes through a link and keeps
 * the file's mode), or a spec `k8s --out` wrote (`--out deploy`, its folder): the filled manifest replaced that spec
 * without a word, and `kubectl apply -f deploy` no longer applied it. Refused unless `force` (the second).
 */
export async function refuseFillOverOwnFiles(files: string[], out: string, force: boolean | undefined): Promise<void> {
  for (const file of files) {
    if (file === '-') continue;
    const target = path.resolve(out, path.basename(file));
    const [real, realTarget] = await Promise.all([realpath(file).catch(() => path.resolve(file)), realpath(target).catch(() => undefined)]);
    if (realTarget === undefined) continue;
    if (realTarget === real) {
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
  }
}
