// `inspect REPO:TAG` reads the record blob of the build this one was planned on (`previous.blob`) for its layers. No
// record gives that blob's size: an endless answer for it is read no further than a bound scaled on this build's
// record (not half a GiB), and a previous record that could not be read is said, not silently ignored.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const running = useRegistryBehindFaultProxy();
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-inspect-prev-');
});

describe('inspect REPO:TAG with a previous record the registry will not give', () => {
  it('bounds the read of an endless answer and says the previous record could not be read', async () => {
    const name = 'studio/prev-bounded';
    const first = path.join(dir, 'b0');
    copySample(first);
    expect((await runCli(['build', '--tag', 'v0', '--push', `${running.registry.host}/${name}`], { cwd: first })).code).toBe(0);
    const next = path.join(dir, 'b1');
    copySample(next);
    await appendFile(path.join(next, 'app/config/server.cfg'), '\nmax_players=32\n');
    const b1 = await runCli(['build', '--tag', 'v1', '--push', `${running.registry.host}/${name}`], { cwd: next });
    expect(b1.code, b1.stderr).toBe(0);
    const prevBlob = (await fetchBuildRecordFor(`${running.registry.host}/${name}:v1`)).record.previous?.blob;
    expect(prevBlob).toMatch(/^sha256:/);

    running.proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${prevBlob}`), count: 10, action: { kind: 'endless', status: 200 } }]);
    const reader = path.join(dir, 'reader');
    copySample(reader);
    const r = await runCli(['inspect', `${running.proxy.host}/${name}:v1`], { cwd: reader });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: the record of the build this one was planned on .* could not be read from the registry/);
    const sent = running.proxy.seen.filter((s) => s.fault !== undefined).map((s) => s.bodyBytesSent ?? 0);
    expect(sent.length).toBeGreaterThan(0);
    // 64 MiB for a record of a few KiB, plus what was in flight when the client stopped reading.
    for (const n of sent) expect(n).toBeLessThan(80 * 1024 * 1024);
  }, 240_000);
});
