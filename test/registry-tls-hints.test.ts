// A registry behind TLS and a client that got the scheme or the trust wrong: each error says which, and what to do.
// A loopback registry serving HTTPS, spoken to in plain HTTP (the default for loopback), said "answered HTTP 400";
// a self-signed certificate, and TLS to a plain-HTTP port, both pointed at --insecure, which changes neither.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

let tls: TestRegistry;
let plain: TestRegistry;
beforeAll(async () => {
  [tls, plain] = await Promise.all([startRegistry({ tls: true }), startRegistry()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([tls?.stop(), plain?.stop()]);
});

describe('TLS errors name the way out', () => {
  it('plain HTTP to a registry that speaks HTTPS says so and points at https://', async () => {
    const r = await runCli(['ls', `${tls.host}/studio/game`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.tls]: list tags of studio/game: ${tls.host} speaks HTTPS, but was spoken to in plain HTTP`);
    expect(r.stderr).toContain(`hint: write the reference as https://${tls.host}/…`);
    expect(r.stderr).not.toContain('answered HTTP 400');
  });

  it('an untrusted certificate points at NODE_EXTRA_CA_CERTS, and that is the way through', async () => {
    const r = await runCli(['ls', `https://${tls.host}/studio/game`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.tls]: list tags of studio/game: TLS with ${tls.host} failed (DEPTH_ZERO_SELF_SIGNED_CERT)`);
    expect(r.stderr).toContain('NODE_EXTRA_CA_CERTS');
    expect(r.stderr).not.toContain('--insecure');
    // Following the hint reaches the registry (its answer for a repository it does not hold).
    const trusted = await runCli(['ls', `https://${tls.host}/studio/game`], { env: { NODE_EXTRA_CA_CERTS: tls.caFile } });
    expect(trusted.stderr).toContain('error[registry.not-found]');
  });

  it('TLS to a plain-HTTP port says the registry has no TLS there', async () => {
    const r = await runCli(['ls', `https://${plain.host}/studio/game`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.tls]: list tags of studio/game: TLS with ${plain.host} failed (EPROTO)`);
    expect(r.stderr).toContain(`hint: ${plain.host} answers in plain HTTP on this port: drop https:// (loopback hosts are spoken to in plain HTTP)`);
  });
});
