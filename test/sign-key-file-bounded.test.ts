// A --key file is read only up to 1 MiB, through the CLI: past that, sign.key-file naming it, before any registry
// is asked (was: read whole; /dev/zero as --key reached 600 MiB of memory, then "RangeError: Invalid string length").
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('--key of sign and verify', () => {
  it('a file over 1 MiB is refused by its size, naming it', async () => {
    const dir = await tempDir();
    const key = path.join(dir, 'cosign.pub');
    await writeFile(key, '-----BEGIN PUBLIC KEY-----\n');
    await truncate(key, 1024 * 1024 + 1);
    for (const cmd of ['verify', 'sign']) {
      const r = await runCli([cmd, '127.0.0.1:1/studio/g:v1', '--key', key], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error[sign.key-file]: cannot read key file ${key}: more than 1048576 bytes, more than a PEM key holds\n`);
    }
  });
});
