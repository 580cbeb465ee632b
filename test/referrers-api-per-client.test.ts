// "No referrers API" is learnt per client (RegistryClient.learnt), not for the whole process: a long-lived library
// user's later clients ask again after one odd answer (a front answering a plain 404 page once).
import { describe, expect, it } from 'vitest';
import { pushTargetFor } from '../src/registry/connect.js';
import { parseReference } from '../src/registry/reference.js';
import { referrersApi } from '../src/registry/referrers.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';

const r = useRegistryBehindFaultProxy();
const subject = `sha256:${'e'.repeat(64)}`;

describe('the referrers API missing', () => {
  it('is remembered by the client that was told, and asked again by a new client', async () => {
    r.proxy.setRules([{ method: 'GET', path: /\/referrers\//, action: { kind: 'status', status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' } }]);
    const ref = parseReference(`${r.proxy.host}/learnt/game`);
    const first = (await pushTargetFor(ref, {})).client;
    const seen = r.proxy.seen.length;
    const asked = () => r.proxy.seen.slice(seen).filter((s) => s.method === 'GET' && s.path.includes('/referrers/')).length;
    expect(await referrersApi(first, 'learnt/game', subject)).toBeUndefined();
    expect(await referrersApi(first, 'learnt/game', subject)).toBeUndefined();
    expect(asked()).toBe(1);
    const later = (await pushTargetFor(ref, {})).client;
    await referrersApi(later, 'learnt/game', subject).catch(() => undefined);
    // Before: the host was marked for the whole process, and the later client never asked.
    expect(asked()).toBe(2);
  });
});
