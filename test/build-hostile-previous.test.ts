// `build` prints the previous build it planned on; a record read from a registry is anyone's text, so its date (and
// reference) must not reach the terminal with an escape sequence or a newline as such: quoted, as inspect does.
import { cp } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
let game: string;

beforeAll(async () => {
  game = await tempDir();
  copySample(game);
}, 120_000);

describe('build on a registry record with control characters in its date', () => {
  it('prints the previous build\'s date quoted: no escape byte, no forged line', async () => {
    const name = `studio/prev-escapes-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const first = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: await copyOf(game) });
    expect(first.code, first.stderr).toBe(0);
    const found = await fetchBuildRecordFor(`${repo}:v1`);
    const lie = { ...found.record, createdAt: '2026\u001b]0;owned\u0007\nforged: line' };
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    await pushBuildRecord({ to: repo, record: lie, subject: { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) }, tags: [], line: 'main' });

    // A fresh host: the previous build is the line's record in the registry.
    const r = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main'], { cwd: await copyOf(game) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('previous build: ');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toMatch(/^forged: line/m);
    expect(r.stdout).toContain('built "2026\\u001b]0;owned\\u0007\\nforged: line"');
  }, 240_000);
});

async function copyOf(dir: string): Promise<string> {
  const to = await tempDir();
  await cp(dir, to, { recursive: true });
  return to;
}
