// `k8s --fill` inputs whose outputs would land on one another or on a file of the user's, refused before anything
// is read or written (fill-mark.ts says which files a fill wrote).
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError } from '../errors.js';
import { fileStartsWith } from '../util/generated-file.js';
import { FILL_MARK, FILLED_FROM_ANNOTATION, isFillOutput } from './fill-mark.js';
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
      `${target}: exists and gamelayer k8s --fill did not write it (no "${FILL_MARK.trim()}" header, no ${FILLED_FROM_ANNOTATION} annotation); the filled ${file} would replace it`,
      'fill into a folder of its own (--out filled), move the file away, or pass --force to replace it',
    );
  }
}

/**
 * `k8s --out DIR` (or `--kustomize-images --out DIR`) where DIR/<name> is a manifest `--fill --out` wrote: it was
 * refused as "not written by gamelayer", which sent the user looking for who wrote it.
 */
export async function refuseSpecOverFillOutput(file: string, force: boolean | undefined): Promise<void> {
  if (force || !(await isFillOutput(file))) return;
  throw new GamelayerError(
    'cli.out-exists',
    `${file}: a manifest gamelayer k8s --fill filled (--fill … --out ${path.dirname(file)}); writing the spec there would replace it, and the filled manifest would be gone from kubectl apply -f ${path.dirname(file)}`,
    `write the spec into a folder of its own (--out another folder), fill the manifest again if it is stale (k8s --fill <manifest> --out ${path.dirname(file)}), or pass --force to replace it`,
  );
}
