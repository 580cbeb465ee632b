// `index --platform linux/amd64 linux/amd64` merged one platform build twice: it put indexes listing the same
// manifest twice as a "multi-platform" build and moved the line's tag to it. A platform given twice (also as
// linux/amd64/) is now refused before the registry is asked; so is a --tag no build could have (`a b;$(id)` was asked of
// the registry, and the missing-build message suggested `gamelayer build … --tag a b;$(id)` unquoted).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useTwoPlatformSample } from './support/sample.js';

const sample = useTwoPlatformSample();

describe('gamelayer index with a platform given twice', () => {
  it.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/arm64', 'linux/amd64', 'linux/arm64/'],
  ])('%s %s is refused (index.platforms), nothing asked of the registry', async (...platforms) => {
    // Port 9 (discard) on loopback: nothing answers, so reaching the registry would fail with another error.
    const r = await runCli(['index', '127.0.0.1:9/g', '--tag', 'v1', '--platform', ...platforms], { cwd: sample.dir });
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toContain(`error[index.platforms]: ${platforms.at(-1)}: given twice; an index merges two platforms or more, each once`);
  });

  it.each(['a b;$(id)', 'x/y', ''])('index --tag %j is refused (build.bad-tag) before the registry is asked', async (tag) => {
    const r = await runCli(['index', '127.0.0.1:9/g', '--tag', tag, '--platform', 'linux/amd64', 'linux/arm64'], { cwd: sample.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[build.bad-tag]: index --tag ${JSON.stringify(tag)}: expected letters, digits`);
    expect(r.stderr).not.toContain('gamelayer build --platform');
  });
});
