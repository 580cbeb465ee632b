// --password-stdin read stdin whole, without a bound: `--password-stdin < /dev/zero` (or `yes | gamelayer …`) grew
// without end until the process was killed, and a file piped in by mistake became the password. Now more than
// 64 KiB is cli.password-stdin, before any request; a password piped in as usual still works.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useTagListRegistry } from './support/tag-list-registry.js';

const registry = useTagListRegistry();

const refused = 'error[cli.password-stdin]: --password-stdin: stdin holds more than 64 KiB, more than a password or token\n';

describe('--password-stdin', () => {
  it('a password piped in as usual is taken (control)', async () => {
    const r = await runCli(['ls', `${registry.host()}/game`, '--username', 'ci', '--password-stdin'], { stdin: 'pw-7Gq!x9Zr\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a megabyte on stdin is refused before any request, not taken as the password', async () => {
    const r = await runCli(['ls', `${registry.host()}/game`, '--username', 'ci', '--password-stdin'], { stdin: `${'x'.repeat(1 << 20)}\n` });
    expect(r.stderr).toContain(refused);
    expect(r.code).toBe(2);
  });

  it('stdin from /dev/zero ends in that error, not in a read without end', async () => {
    const r = await runCli(['ls', `${registry.host()}/game`, '--username', 'ci', '--password-stdin'], { prefix: ['sh', '-c', 'exec "$@" < /dev/zero', 'sh'] });
    expect(r.stderr).toContain(refused);
    expect(r.code).toBe(2);
  });
});
