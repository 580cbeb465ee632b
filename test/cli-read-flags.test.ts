// Commands that work on images already in a registry (read, delete, sign or index them) do not offer the push's
// flags. `ls`, `inspect`, `diff --against`, `sbom`, `verify`, `prune`, `sign` and `index` took --concurrency
// ("parallel blob uploads") and ignored it, and took --create-repo / --scan-on-push / --immutable-tags, which on an
// ECR host created the repository (a dry-run prune or an `ls` of a misspelt name made an empty repository); elsewhere
// they were silently ignored.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';

const REPO = '127.0.0.1:9/studio/game';
const READS: [string, string[]][] = [
  ['ls', ['ls', REPO]],
  ['inspect', ['inspect', `${REPO}:1`]],
  ['diff', ['diff', '--against', REPO]],
  ['sbom', ['sbom', `${REPO}:1`]],
  ['verify', ['verify', `${REPO}:1`, '--key', 'k.pub']],
  ['prune', ['prune', REPO]],
  ['sign', ['sign', `${REPO}:1`, '--key', 'k.pem']],
  ['index', ['index', REPO]],
];
const PUSH_ONLY = [['--concurrency', '2'], ['--create-repo'], ['--scan-on-push'], ['--immutable-tags']];

describe('commands on images already in the registry refuse the push flags', () => {
  it.each(READS)('%s', async (name, args) => {
    const help = await runCli([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--insecure');
    for (const flag of PUSH_ONLY) {
      expect(help.stdout).not.toContain(flag[0]);
      const r = await runCli([...args, ...flag]);
      expect(r.code, `${name} ${flag.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`unknown option '${flag[0]}'`);
    }
  });

  it('push and build --push still take them', async () => {
    for (const name of ['push', 'build']) {
      const help = await runCli([name, '--help']);
      for (const [flag] of PUSH_ONLY) expect(help.stdout).toContain(flag);
    }
  });
});
