// `verify --key` (and `sbom --key`) take the public key. A private key PEM was read and its public half used, so a
// verifier was handed the signer's secret without a word; it is refused, naming the file and the command that makes
// the public key. A key of the wrong type at verify got the hint for making a private key; it now says "public key".
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
  const sh = (cmd: string) => execFileSync('sh', ['-c', `cd "$1" && ${cmd}`, 'sh', dir]);
  sh('openssl ecparam -genkey -name prime256v1 -noout -out key.pem');
  sh("cp key.pem 'my key.pem'");
  sh('openssl genpkey -algorithm ED25519 -out ed.pem && openssl pkey -in ed.pem -pubout -out ed.pub');
});

// Port 9 (discard) on loopback: nothing answers, so reaching the registry would fail with another error.
const REF = '127.0.0.1:9/g:1';

describe('a private key where the public key is wanted', () => {
  it.each(['verify', 'sbom'])('%s --key key.pem is refused before the registry is asked, with the command that makes the public key', async (command) => {
    const r = await runCli([command, REF, '--key', 'key.pem'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error[sign.key-private]: key.pem: a private key; --key here takes the public key (cosign.pub)\nhint: make the public key with: openssl pkey -in key.pem -pubout -out cosign.pub\n');
  });

  it('a path with a space is quoted in the command', async () => {
    const r = await runCli(['verify', REF, '--key', 'my key.pem'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("hint: make the public key with: openssl pkey -in 'my key.pem' -pubout -out cosign.pub\n");
    // The hint's command works: the public key it makes is taken (the error is now the registry's).
    execFileSync('sh', ['-c', 'cd "$1" && openssl pkey -in \'my key.pem\' -pubout -out cosign.pub', 'sh', dir]);
    // One attempt (GAMELAYER_REGISTRY_RETRIES): nothing listens at REF, and only the kind of error is checked.
    const again = await runCli(['verify', REF, '--key', 'cosign.pub'], { cwd: dir, env: { GAMELAYER_REGISTRY_RETRIES: '1' } });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error[registry.unreachable]');
  });

  it('a public key of the wrong type: the hint asks for the public key, not how to make a private one', async () => {
    const r = await runCli(['verify', REF, '--key', 'ed.pub'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error[sign.key-type]: ed.pub: a ed25519 key; expected ECDSA P-256\nhint: pass the public key of the ECDSA P-256 key that signed (openssl pkey -in cosign.key -pubout -out cosign.pub)\n');
  });

  it('sign with a private key of the wrong type still says how to make a signing key', async () => {
    const r = await runCli(['sign', REF, '--key', 'ed.pem'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hint: make one with: openssl ecparam -genkey -name prime256v1');
  });
});
