// A front of a registry (a cache keeping old HEAD answers, a misconfigured proxy) that answers 200 to a HEAD of any
// blob: the push took each for "already there" and sent none. The registry refused every manifest
// (MANIFEST_BLOB_UNKNOWN); the push put each again six times, saying "though it holds every blob and manifest it
// names", and failed push.manifest-refused (the build record's blob, read back, failed `check blob …: answered
// 404`). After a refusal the blobs are now read (their first byte), not HEADed: what the registry lacks is sent and
// the push completes. No manifest was ever stored naming a missing blob: the registry checks each PUT.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const net = useRegistryBehindFaultProxy();
const OCI_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await writeGame(dir);
  const b = await runCli(['build', '-t', 'v1'], { cwd: dir });
  expect(b.code, b.stderr).toBe(0);
});

describe('a registry front that answers 200 to every blob HEAD', () => {
  it('push sends what the registry lacks after the refusal, and every manifest it left names blobs the registry serves', async () => {
    net.proxy.setRules([{ method: 'HEAD', path: /\/blobs\/sha256:/, count: 1_000_000, action: { kind: 'status', status: 200 } }]);
    const r = await runCli(['push', `${net.proxy.host}/studio/liar:v1`], { cwd: dir });
    net.proxy.setRules([]);
    expect(r.stderr).not.toContain('error[');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('refused manifest');
    expect(r.stderr).toMatch(/and lacks blob sha256:[0-9a-f]{64}.* it names: sending (it|them) again/);
    // Straight to the registry: each tag's manifest, and every blob each names.
    const v2 = `http://${net.registry.host}/v2/studio/liar`;
    const tags = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags;
    expect(tags).toEqual(expect.arrayContaining(['v1', 'v1-app', 'v1-app-media', 'v1-engine', 'v1-engine-media', 'v1.gamelayer-record']));
    const checked = new Set<string>();
    const walk = async (ref: string): Promise<void> => {
      const m = (await (await fetch(`${v2}/manifests/${ref}`, { headers: { accept: OCI_ACCEPT } })).json()) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
      for (const b of [...(m.config ? [m.config] : []), ...(m.layers ?? [])]) {
        if (checked.has(b.digest)) continue;
        checked.add(b.digest);
        expect((await fetch(`${v2}/blobs/${b.digest}`, { method: 'HEAD' })).status, b.digest).toBe(200);
      }
      for (const c of m.manifests ?? []) await walk(c.digest);
    };
    for (const t of tags) await walk(t);
    expect(checked.size).toBeGreaterThan(5);
  });
});
