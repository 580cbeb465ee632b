// prune reads image indexes the registry serves (a build's image, a referrers index `sha256-<hex>` anyone who may
// push can write, a record index by digest) to learn what they list. A document that is not JSON, or whose
// `manifests` is not a list of descriptors, was JSON.parse'd and iterated as given: a SyntaxError or TypeError,
// printed as error[internal] with "this looks like a bug". It is now one clear error naming the repository and the
// reference (src/registry/index-entries.ts), and nothing is deleted on its word.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { type FaultRule } from './support/fault-proxy.js';
import { writeManyBuilds } from './support/many-builds.js';
import { storedTags } from './support/registry.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const running = useRegistryBehindFaultProxy();


async function digestOf(repo: string, tag: string): Promise<string> {
  const res = await fetch(`${running.registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: INDEX } });
  expect(res.status).toBe(200);
  return res.headers.get('docker-content-digest')!;
}

// Which GET gets the bad body: b00000's image is removed and has a referrers index (many-builds.ts: every 9th build),
// b00003's image is removed (its index is read for the platform manifests it lists), and the record index of a
// removed build (b00001's record tag, HEAD and GETs answering the same bad index) is read for what it lists when
// --apply moves its record tag (prune-records.ts): after the other removed builds' record tags were moved, before.
const CASES = [
  { name: 'a referrers index that is not JSON', ref: 'referrers', body: '{"schemaVersion":2,"manifests":[', apply: false, expect: /error\[registry\.bad-answer\]: 127\.0\.0\.1:\d+\/studio\/bad-\d:sha256-[0-9a-f]{64}: not JSON/ },
  { name: 'a referrers index listing null', ref: 'referrers', body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [null] }), apply: false, expect: /error\[registry\.bad-answer\]: 127\.0\.0\.1:\d+\/studio\/bad-\d:sha256-[0-9a-f]{64}: manifests\[0\] is null, not a descriptor/ },
  { name: 'an image index whose manifests is an object', ref: 'b00003', body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: { digest: `sha256:${'a'.repeat(64)}` } }), apply: false, expect: /error\[registry\.bad-answer\]: 127\.0\.0\.1:\d+\/studio\/bad-\d:b00003: its "manifests" is an object, not a list: not an image index/ },
  {
    name: 'a record index listing null (met on --apply)',
    ref: 'record',
    body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [null], annotations: { 'org.opencontainers.image.created': '2026-01-01T00:01:00.000Z' } }),
    apply: true,
    expect: /error\[registry\.bad-answer\]: 127\.0\.0\.1:\d+\/studio\/bad-\d@sha256:[0-9a-f]{64}: manifests\[0\] is null, not a descriptor/,
  },
];

describe('gamelayer prune and an index that is not one', () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s: a clear error, nothing deleted', async (_name, i) => {
    const c = CASES[i]!;
    const name = `studio/bad-${i}`;
    await writeManyBuilds(running.registry.url, name, 10);
    const ref = c.ref === 'referrers' ? (await digestOf(name, 'b00000')).replace(':', '-') : c.ref === 'record' ? 'b00001.gamelayer-record' : c.ref;
    const before = await storedTags(running.registry.storageDir, name);
    const serve = (method: string, reference: string, headers: Record<string, string> = {}): FaultRule => ({
      method,
      path: new RegExp(`^/v2/${name}/manifests/${reference}$`),
      count: 100,
      action: { kind: 'status', status: 200, headers: { 'content-type': INDEX, ...headers }, body: c.body },
    });
    const digest = `sha256:${createHash('sha256').update(c.body).digest('hex')}`;
    // The tag names the bad index through and through: its HEAD, its GET and the GET by its digest (prune judges
    // each tag's manifest by its document, read by the digest the HEAD gave).
    running.proxy.setRules([serve('GET', ref), serve('HEAD', ref, { 'docker-content-digest': digest, 'content-length': String(Buffer.byteLength(c.body)) }), serve('GET', digest)]);
    const r = await runCli(['prune', `${running.proxy.host}/${name}`, '--keep', '1', '--json', ...(c.apply ? ['--apply'] : [])]);
    expect(running.proxy.fired.reduce((a, b) => a + b, 0), 'the bad body was served').toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(c.expect);
    expect(r.stderr).not.toMatch(/error\[internal\]|at .+:\d+:\d+/);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toMatch(/^registry\.(bad-answer|digest)$/);
    // Nothing was deleted: every tag still names what it named.
    expect(await storedTags(running.registry.storageDir, name)).toEqual(before);
  }, 120_000);
});
