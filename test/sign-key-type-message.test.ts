// A signing or verifying key of the wrong type is named in the error: "a rsa  key" (two spaces: no curve) read as a
// word left out. The curve is shown only when the key has one.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
  execFileSync('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', path.join(dir, 'ed.pem')]);
  execFileSync('openssl', ['pkey', '-in', path.join(dir, 'ed.pem'), '-pubout', '-out', path.join(dir, 'ed.pub')]);
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', path.join(dir, 'p384.pem')]);
});

describe('sign / verify with a key that is not ECDSA P-256', () => {
  it.each([
    ['sign', 'ed.pem', 'a ed25519 key; expected ECDSA P-256'],
    ['verify', 'ed.pub', 'a ed25519 key; expected ECDSA P-256'],
    ['sign', 'p384.pem', 'a ec secp384r1 key; expected ECDSA P-256'],
  ])('%s --key %s says "%s", before the registry is asked', async (command, key, text) => {
    // Port 9 (discard) on loopback: nothing answers, so reaching the registry would fail with another error.
    const r = await runCli([command, '127.0.0.1:9/g:1', '--key', key], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[sign.key-type]: ${key}: ${text}`);
  });
});
