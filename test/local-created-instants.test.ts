// A build record's createdAt is RFC 3339 text: another tool, host or version may write another zone or no
// fractional seconds. `ls`, `gc` and `inspect` of the local store compared the texts: "…05:00:00-05:00" (10:00 UTC)
// sorted before "…09:30:00Z", and "…09:30:00Z" after "…09:30:00.250Z" ('Z' > '.'), so `ls` listed the builds out of
// order, `gc --keep 1` kept an older build and removed the newest but one, and `inspect` showed the layers a build
// kept from earlier builds as new. They compare the instants now (util/instant.ts, as `prune` does).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

/** Rewrites the createdAt of a record file (JSON, the same members in the same order). */
async function setCreated(file: string, createdAt: string): Promise<void> {
  const record = JSON.parse(await readFile(file, 'utf8')) as { createdAt: string };
  record.createdAt = createdAt;
  await writeFile(file, JSON.stringify(record));
}

describe('local builds whose times are written in other zones and precisions', () => {
  it('ls lists them newest first by instant; gc keeps the newest; inspect sees the kept layers', async () => {
    const dir = await tempDir('gl-created-instants-');
    await writeTinyGame(dir, ['game: created-instants', 'start: [/opt/local/engine/run]']);
    const cli = async (...args: string[]) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const records = path.join(dir, '.gamelayer', 'records');
    // b1 at 09:30:00.250 UTC, b2 at 09:30:00 UTC, b3 (the last build, same layers) at 10:00 UTC written at -05:00.
    const times: [string, string][] = [['b1', '2026-12-07T09:30:00.250Z'], ['b2', '2026-12-07T09:30:00Z'], ['b3', '2026-12-07T05:00:00-05:00']];
    for (const [tag, at] of times) {
      await cli('build', '--tag', tag);
      await setCreated(path.join(records, `build-${tag}.json`), at);
    }
    await setCreated(path.join(records, 'build-last.json'), '2026-12-07T05:00:00-05:00');

    const ls = JSON.parse(await cli('ls', '--json')) as { builds: { tag: string }[] };
    expect(ls.builds.map((b) => b.tag)).toEqual(['b3', 'b1', 'b2']);

    const gc = JSON.parse(await cli('gc', '--keep', '1', '--json')) as { keptBuilds: string[]; removedBuilds: string[] };
    expect(gc.keptBuilds).toEqual(['b3']);
    expect(gc.removedBuilds).toEqual(['b1', 'b2']);

    // b3 made no layer: every content layer of it is b1's and b2's, built earlier.
    const view = JSON.parse(await cli('inspect', 'b3', '--json')) as { layers: { status: string }[] };
    const content = view.layers.filter((l) => l.status !== 'marker');
    expect(content.length).toBeGreaterThan(0);
    expect(content.map((l) => l.status)).toEqual(content.map(() => 'kept'));
  }, 60_000);

  it('ls and inspect show a time written in another zone as the UTC time it names', async () => {
    const dir = await tempDir('gl-created-utc-');
    await writeTinyGame(dir, ['game: created-utc', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['build', '--tag', 'z1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const records = path.join(dir, '.gamelayer', 'records');
    // 10:00:30 UTC, written at -05:00: it was shown as "05:00", read as UTC.
    for (const name of ['build-z1.json', 'build-last.json']) await setCreated(path.join(records, name), '2026-12-07T05:00:30.5-05:00');
    const ls = await runCli(['ls'], { cwd: dir });
    expect(ls.stdout.split('\n').find((l) => l.startsWith('z1 '))).toContain(' 2026-12-07 10:00 ');
    const inspect = await runCli(['inspect', 'z1'], { cwd: dir });
    expect(inspect.stdout.split('\n')[0]).toBe('build z1 of created-utc, 2026-12-07 10:00:30 UTC');
  }, 60_000);
});
