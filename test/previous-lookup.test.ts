// The registry's previous build looked up early (issue 17, start-up): `gamelayer build --push` starts the lookup
// before the build's modules load (startPreviousLookup), and the build takes its result only when it was started
// for exactly the build's options. Same requests, same checks: counted in a real registry's own access log.
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { startPreviousLookup } from '../src/index.js';
import { copySample, sampleConfig } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
const registryOptions = { insecure: true };

/** A sample game built and pushed to `repo` on line `main`: the registry holds the line's record. */
async function pushedGame(repo: string) {
  const dir = await tempDir();
  copySample(dir);
  const config = await sampleConfig(dir);
  const first = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions });
  await pushBuild({ ...registryOptions, store: first.store, record: first.record, repository: repo, stateDir: config.stateDir });
  return config;
}

async function requests(): Promise<string[]> {
  // The access log is written as each answer completes: give the last line a moment to land.
  await new Promise((r) => setTimeout(r, 100));
  return (await registry.accessLog()).map((e) => `${e.method} ${e.path}`);
}

describe('startPreviousLookup', () => {
  it('starts nothing when the build would not read a registry record: --rebase, --from none, no --push or --from', () => {
    const push = `${registry.host}/studio/none`;
    expect(startPreviousLookup({ rebase: true, from: undefined, push, line: 'main', registry: registryOptions })).toBeUndefined();
    expect(startPreviousLookup({ rebase: undefined, from: 'none', push, line: 'main', registry: registryOptions })).toBeUndefined();
    expect(startPreviousLookup({ rebase: undefined, from: undefined, push: undefined, line: 'main', registry: registryOptions })).toBeUndefined();
  });

  it('a build given the lookup started for its options plans on that record and asks for it only once', async () => {
    const repo = `${registry.host}/studio/early`;
    const config = await pushedGame(repo);
    await registry.resetAccessLog();
    const lookup = startPreviousLookup({ rebase: undefined, from: undefined, push: repo, line: 'main', registry: registryOptions })!;
    await lookup.asking;
    const again = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions, previousLookup: lookup });
    expect(again.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main`, line: 'main' });
    expect(again.summary.layers.every((l) => l.reused)).toBe(true);
    const log = await requests();
    expect(log.filter((r) => r === 'GET /v2/studio/early/manifests/gamelayer-line.main')).toHaveLength(1);
    expect(log.filter((r, i) => log.indexOf(r) !== i)).toEqual([]);
    // The push after it goes on with the lookup's client: its ping is not sent again.
    expect(again.previousTarget?.target).toBe((await lookup.result)?.target);
  });

  it('a lookup started for other options (another line) is not used: the build asks for its own line', async () => {
    const repo = `${registry.host}/studio/other-line`;
    const config = await pushedGame(repo);
    await registry.resetAccessLog();
    const other = startPreviousLookup({ rebase: undefined, from: undefined, push: repo, line: 'feature', registry: registryOptions })!;
    const again = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions, previousLookup: other });
    // The feature line has no build: its lookup plans on main's newest (line-fallback.ts); the build asks for its own.
    expect((await other.result)?.plannedOn?.line).toBe('main');
    expect(again.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main`, line: 'main' });
    expect(again.summary.previous.plannedOn).toBeUndefined();
    const log = await requests();
    // Asked with a HEAD: this host's push kept a copy of the line's record (src/registry/line-copy.ts).
    expect(log).toContain('HEAD /v2/studio/other-line/manifests/gamelayer-line.main');
    expect(log).toContain('GET /v2/studio/other-line/manifests/gamelayer-line.feature');
  });

  it('a lookup that fails fails the build with the error it fails with when it looks up itself', async () => {
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    // Upper case is not a repository name: the lookup rejects (registry.reference) before any request.
    const repo = `${registry.host}/Studio/Bad`;
    const without = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions }).catch((e: unknown) => e);
    const lookup = startPreviousLookup({ rebase: undefined, from: undefined, push: repo, line: 'main', registry: registryOptions })!;
    await lookup.asking;
    const withLookup = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions, previousLookup: lookup }).catch((e: unknown) => e);
    expect((without as { code?: string }).code).toMatch(/^registry\./);
    expect((withLookup as { code?: string }).code).toBe((without as { code?: string }).code);
    expect((withLookup as Error).message).toBe((without as Error).message);
  });

  it('a failed lookup nobody takes (the build failed before it) leaves no unhandled rejection', async () => {
    // --from REPO: the lookup the CLI does not wait on at all.
    const lookup = startPreviousLookup({ rebase: undefined, from: `${registry.host}/Studio/Never`, push: undefined, line: 'main', registry: registryOptions })!;
    await lookup.asking;
    // Vitest fails the run on an unhandled rejection: give one the turns it needs to be reported.
    await new Promise((r) => setTimeout(r, 50));
    await expect(lookup.result).rejects.toMatchObject({ code: expect.stringMatching(/^registry\./) });
  });
});
