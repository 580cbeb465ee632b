// The first build of a line whose branch name a tag cannot hold (`release/1.4`): the note (planned on another line's
// newest build) names the line as its tag does (`release-1.4-<hash>`), not the raw branch.
import { describe, expect, it } from 'vitest';
import { LINE_TAG_PREFIX, lineTag } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

async function freshHost(): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  return dir;
}

describe('the new-line note', () => {
  it('names the line as its tag does', async () => {
    const repo = `${registry.host}/studio/line-name`;
    const main = await runCli(['build', '--push', repo, '--tag', 'm1', '--line', 'main'], { cwd: await freshHost() });
    expect(main.code, main.stderr).toBe(0);
    const release = await runCli(['build', '--push', repo, '--tag', 'r1', '--line', 'release/1.4'], { cwd: await freshHost() });
    expect(release.code, release.stderr).toBe(0);
    const name = lineTag('release/1.4').slice(LINE_TAG_PREFIX.length);
    expect(name).toMatch(/^release-1\.4-[0-9a-f]{8}$/);
    expect(release.stderr).toContain(`note: line ${name} has no build in ${repo} yet: planned on line main's newest build`);
  }, 240_000);
});
