// `inspect REPO:TAG` prints a record read from a registry: its game, version, tags and CodeBuild ARN are anyone's
// text there. An escape sequence or a newline in them must not reach the terminal as such (a forged line, a retitled
// window): such a string is shown quoted, as diff shows an odd path.
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

describe('inspect of a registry record with control characters', () => {
  it('shows them quoted: no escape byte, no forged line', async () => {
    const name = `studio/escapes-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const dir = await tempDir();
    await cp(game, dir, { recursive: true, verbatimSymlinks: true });
    const first = await runCli(['build', '--push', repo, '--tag', 'v1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const found = await fetchBuildRecordFor(`${repo}:v1`);
    const lie = { ...found.record, game: 'evil\u001b]0;owned\u0007\nforged: line', codebuildArn: 'arn\u001b[2Jx', version: '1\u009b2J' };
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    await pushBuildRecord({ to: repo, record: lie, subject: { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) }, tags: ['v1'] });

    const r = await runCli(['inspect', `${repo}:v1`], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    // A C1 CSI (U+009B), which JSON.stringify leaves as it is, is escaped too.
    expect(r.stdout).not.toContain('\u009b');
    expect(r.stdout).toContain('"1\\u009b2J"');
    expect(r.stdout).not.toMatch(/^forged: line/m);
    expect(r.stdout).toContain('of "evil\\u001b]0;owned\\u0007\\nforged: line"');
    expect(r.stdout).toContain('codebuild: "arn\\u001b[2Jx"');
    // --json is JSON: the strings as they are.
    expect(JSON.parse((await runCli(['inspect', `${repo}:v1`, '--json'], { cwd: dir })).stdout).game).toBe(lie.game);
  }, 240_000);
});
