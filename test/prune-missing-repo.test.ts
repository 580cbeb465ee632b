// `prune REPO` of a repository the registry does not have (a misspelt name, the wrong registry) said "kept 0 builds,
// would delete 0 builds" and exited 0, with --apply too: a nightly prune of a typo succeeded forever while the real
// repository grew. It is `registry.not-found`, exit 1, as `ls REPO` is.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();

describe('prune of a repository that does not exist', () => {
  it('is registry.not-found, exit 1, dry run or --apply', async () => {
    for (const apply of [[], ['--apply']]) {
      const r = await runCli(['prune', `${registry.host}/studio/no-such-game`, ...apply]);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `error[registry.not-found]: ${registry.host}/studio/no-such-game: no such repository (${registry.host} answered 404 to its tag list)\n` +
          'hint: check the repository name and the registry (gamelayer ls HOST/REPO lists a repository)\n',
      );
    }
  });
});
