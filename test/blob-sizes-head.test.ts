// blobSizes asks each blob's size with the client's HEAD (client.blobSize), checked as blobExists checks it: a 302
// to storage is present without a size (it threw), a length of 0 is no size (it was taken as one), and an answer
// naming another blob is refused (it was taken as this blob's size).
import { describe, expect, it } from 'vitest';
import { blobSizes } from '../src/registry/blob-sizes.js';
import { pushTargetFor } from '../src/registry/connect.js';
import { parseReference } from '../src/registry/reference.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';

const r = useRegistryBehindFaultProxy();
const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe("blobSizes' HEAD", () => {
  it('takes no size from a redirect or a length of 0, and refuses an answer naming another blob', async () => {
    const target = await pushTargetFor(parseReference(`${r.proxy.host}/sizes/game`), {});
    r.proxy.setRules([
      { method: 'HEAD', path: /a{64}$/, action: { kind: 'redirect', status: 302, location: (p) => `http://storage.invalid${p}` } },
      { method: 'HEAD', path: /b{64}$/, action: { kind: 'status', status: 200, headers: { 'content-length': '0', 'docker-content-digest': digest('b') } } },
    ]);
    // Before: the 302 failed the call (not an expected status).
    expect(await blobSizes(target, 'sizes/game', [digest('a'), digest('b')])).toEqual(new Map());
    r.proxy.setRules([{ method: 'HEAD', path: /c{64}$/, action: { kind: 'status', status: 200, headers: { 'content-length': '512', 'docker-content-digest': digest('d') } } }]);
    // Before: 512 bytes, taken from an answer about blob d.
    await expect(blobSizes(target, 'sizes/game', [digest('c')])).rejects.toThrow(/another blob/);
  });
});
