// `k8s --fill` inputs whose outputs would land on one another, refused before anything is read or written.
import path from 'node:path';
import { GamelayerError } from '../errors.js';

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
