// `build --platform P --push` of a config of several platforms pushes one part of a multi-platform build: its record
// moves no line (`gamelayer index` merges the parts and moves it), and the record pushed names none. The local
// record said `line: 'default'` (the line it was planned on) all the same: the two records of one build disagreed.
// The local record names no line now, as the pushed one.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, registryRecords } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
const env = { GAMELAYER_LINE: undefined };

describe("one platform's build of several", () => {
  it('names no line in its local record, as in the record it pushed', async () => {
    const dir = await tempDir('gl-platform-build-line-');
    const repo = `${registry.host}/studio/platform-build-line`;
    await writeTinyGame(dir, ['game: platform-build-line', 'start: [/opt/local/engine/run]', 'platforms: [linux/amd64, linux/arm64]', `registry: ${repo}`]);
    await cliOk(dir, ['build', '--platform', 'linux/amd64', '--tag', 'v1', '--push'], env);
    expect(await registryRecords(dir, repo, env)).toEqual({ 'v1-linux-amd64.gamelayer-record': 'record of v1-linux-amd64' });
    const local = JSON.parse(await readFile(path.join(dir, '.gamelayer', 'records', 'build-v1-linux-amd64.json'), 'utf8')) as { line?: string };
    expect(local.line).toBeUndefined();
    // Pushed again by `push`, the same record: still no line anywhere.
    await cliOk(dir, ['push', 'v1-linux-amd64'], env);
    expect(Object.keys(await registryRecords(dir, repo, env)).filter((t) => t.startsWith('gamelayer-line.'))).toEqual([]);
  }, 120_000);
});
