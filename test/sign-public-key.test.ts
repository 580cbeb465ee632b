// `sign --key cosign.pub` (the public half, a common slip after verify) said "not a readable PEM private key", as for a
// damaged file; it now says it is the public key. Refused before the registry is asked (port 9 on loopback: nothing answers).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('sign with a public key', () => {
  it('names it a public key, for sign and build --sign', async () => {
    const dir = await tempDir('gl-sign-public-');
    execFileSync('sh', ['-c', 'openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null'], { cwd: dir });
    const r = await runCli(['sign', '127.0.0.1:9/g:1', '--key', 'pub.pem'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[sign.key-public]: pub.pem: a public key; signing takes the private key (cosign.key)\nhint: pass the private key it was made from');
    await writeTinyGame(dir, ['game: g', 'start: [/opt/local/engine/run]']);
    const b = await runCli(['build', '--push', '127.0.0.1:9/g', '--sign', path.join(dir, 'pub.pem')], { cwd: dir });
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`error[sign.key-public]: ${path.join(dir, 'pub.pem')}: a public key`);
  });
});
