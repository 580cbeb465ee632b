// `diff --against REPO --exit-code` with no earlier build of the line (or `--against REPO:TAG --if-exists` with no
// such image): "every layer is new", yet it exited 0, the status for "nothing changed", so a CI step that builds only
// on a change skipped the first build. It exits 3 (changed) now; without --exit-code it still exits 0.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
let game: string;
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
});

describe('diff --against with nothing to compare with', () => {
  it('--exit-code exits 3 for an empty repository and for a missing image with --if-exists', async () => {
    const repo = `${registry.host}/studio/empty-${process.pid}`;
    const line = await runCli(['diff', '--against', repo, '--exit-code'], { cwd: game });
    expect(line.stdout).toContain('every layer is new');
    expect(line.code, line.stderr).toBe(3);
    const tag = await runCli(['diff', '--against', `${repo}:v9`, '--if-exists', '--exit-code'], { cwd: game });
    expect(tag.stdout).toContain('nothing to compare with');
    expect(tag.code, tag.stderr).toBe(3);
    const plain = await runCli(['diff', '--against', repo], { cwd: game });
    expect(plain.code, plain.stderr).toBe(0);
  });
});
