// Smoke tests of the compare bench's harness: the counting proxy in front of a real registry (what it counts, and
// that uploads stay on it), pull cost from the registry's manifests, the chart, and the report's target lines.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareChart, compareMarkdown, type CompareData, type Sample } from '../bench/compare-report.js';
import { imageLayers, pullBytes } from '../bench/pull-cost.js';
import { readStoredBlob } from './support/registry.js';
import { useRegistryBehindProxy } from './support/registry-behind-proxy.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('counting proxy in front of a real registry', () => {
  const net = useRegistryBehindProxy();

  /** A chunked upload (POST, PATCH ×2, PUT) as docker's daemon does it, following each Location. */
  async function upload(repo: string, body: Buffer): Promise<string> {
    const base = `http://${net.proxy.host}`;
    let res = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
    let location = new URL(res.headers.get('location')!, base);
    // The registry builds Location from the Host header: the next requests must come back to the proxy.
    expect(location.host).toBe(net.proxy.host);
    const half = body.length >> 1;
    for (const part of [body.subarray(0, half), body.subarray(half)]) {
      res = await fetch(location, { method: 'PATCH', body: new Uint8Array(part), headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status).toBe(202);
      location = new URL(res.headers.get('location')!, base);
      expect(location.host).toBe(net.proxy.host);
    }
    const digest = sha(body);
    location.searchParams.set('digest', digest);
    res = await fetch(location, { method: 'PUT' });
    expect(res.status).toBe(201);
    return digest;
  }

  it('counts upload bodies, manifests apart, and the registry stores what was counted', async () => {
    const before = net.proxy.counts();
    const layer = Buffer.alloc(300_000, 7);
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layerDigest = await upload('bench/a', layer);
    const configDigest = await upload('bench/a', config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
      }),
    );
    const put = await fetch(`http://${net.proxy.host}/v2/bench/a/manifests/v1`, {
      method: 'PUT',
      body: new Uint8Array(manifest),
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).toBe(201);
    // A GET is not an upload.
    expect((await fetch(`http://${net.proxy.host}/v2/bench/a/blobs/${layerDigest}`)).status).toBe(200);
    const after = net.proxy.counts();
    expect(after.uploadBytes - before.uploadBytes).toBe(layer.length + config.length + manifest.length);
    expect(after.manifestBytes - before.manifestBytes).toBe(manifest.length);
    expect(after.uploadRequests - before.uploadRequests).toBe(2 * 4 + 1);
    expect(await readStoredBlob(net.registry.storageDir, layerDigest)).toEqual(layer);

    const layers = await imageLayers(net.registry.url, 'bench/a', 'v1');
    expect(layers).toEqual([{ digest: layerDigest, size: layer.length }]);
    expect(pullBytes([], layers)).toBe(layer.length);
    expect(pullBytes(layers, layers)).toBe(0);
  });
});

describe('pull cost', () => {
  it('counts each missing digest once', () => {
    const a = { digest: 'sha256:a', size: 10 };
    const b = { digest: 'sha256:b', size: 20 };
    const c = { digest: 'sha256:c', size: 40 };
    expect(pullBytes([a], [a, b, b, c])).toBe(60);
  });
});

function sample(method: Sample['method'], scenario: Sample['scenario'], over: Partial<Sample> = {}): Sample {
  return {
    series: 'main',
    scenario,
    gameSize: 1e9,
    run: 0,
    method,
    tag: 't',
    wallMs: 1000,
    cpuMs: 800,
    clientCpuMs: 800,
    peakRssMiB: 100,
    uploadBytes: 1e6,
    manifestBytes: 1000,
    uploadRequests: 4,
    storageGrowth: 1e6,
    pullServer: 1e6,
    imageBytes: 1e9,
    changedBytes: 50e6,
    changedCompressed: 40e6,
    worker: { phases: { scan: 100, hash: 50, layers: 300, images: 50, push: 500, upload: 400 }, contentBytes: 1e9, buildCpuMs: 20_000, buildMs: 12_000, layers: 6 },
    ...over,
  };
}

function data(samples: Sample[]): CompareData {
  return {
    preset: 'default',
    date: '2026-01-01',
    machine: 'test',
    cores: 2,
    dockerVersion: '20.10',
    options: { sizes: [1e9], main: 1e9, changeMb: 50, changesMb: [50], smallFiles: 200, runs: 1, curveRuns: 1 },
    games: [{ size: 1e9, files: 1300, bytes: 1e9 }],
    skipped: [],
    baseline: { bytes: 1e9, compressed: 8e8, cpuMs: 20_000, ms: 20_000 },
    samples,
    totalSeconds: 60,
  };
}

describe('compare report', () => {
  it('states each target from the figures', () => {
    const met = compareMarkdown(
      data([
        sample('docker', 'change', { wallMs: 60_000, uploadBytes: 900e6 }),
        sample('gamelayer', 'change', { wallMs: 2_000, uploadBytes: 44e6 }),
        sample('gamelayer', 'noop', { wallMs: 400, uploadBytes: 0 }),
        sample('gamelayer', 'cold'),
      ]),
    );
    expect(met).toMatch(/Bytes sent ≤ 1\.2 × .*: met\*\* — .* 1\.10×/);
    expect(met).toMatch(/≥ 20× less wall time .*: met\*\* — docker 60\.0 s, gamelayer 2\.00 s: 30\.0× less/);
    expect(met).toMatch(/No-op .*: met\*\* — 0\.40 s \(nothing sent/);
    // 1e9 bytes in 20 CPU-s against a limit of 1e9 bytes in 20 CPU-s: 100 %.
    expect(met).toMatch(/single-core compression limit per core used: met\*\* .* 100 %/);
    expect(met).toContain('Smoke run at reduced settings');

    const short = compareMarkdown(
      data([
        sample('docker', 'change', { wallMs: 10_000 }),
        sample('gamelayer', 'change', { wallMs: 2_000, uploadBytes: 80e6, worker: { ...sample('gamelayer', 'change').worker, trees: [{ tree: 'app-media', decision: 'rebased', reason: 'too many patches' }] } }),
        sample('gamelayer', 'noop', { wallMs: 1500 }),
      ]),
    );
    expect(short).toMatch(/Bytes sent ≤ 1\.2 × .*: not met\*\* — .* 2\.00×\. .*rebased app-media in 1 of 1 run \(too many patches\)/);
    // The push (0.5 s) is the largest phase; its uploads (0.4 s) are most of it.
    expect(short).toMatch(/≥ 20× less wall time .*: not met\*\* — .* 5\.0× less\. The largest part is push: 0\.50 s of 2\.00 s .*blob uploads took 0\.40 s/);
    expect(short).toMatch(/No-op .*: not met\*\*/);
  });

  it("reports the seed's 3.1 GB case from the size curve when the scenarios ran on a smaller game", () => {
    const seed = (m: 'docker' | 'gamelayer', over: Partial<Sample>) => sample(m, 'change', { series: 'size-curve', gameSize: 3.1e9, ...over });
    const d = data([
      sample('docker', 'change', { wallMs: 40_000 }),
      sample('gamelayer', 'change', { wallMs: 1_000, uploadBytes: 44e6 }),
      seed('docker', { wallMs: 100_000, uploadBytes: 1e9 }),
      seed('gamelayer', { wallMs: 2_000, uploadBytes: 42e6 }),
    ]);
    d.options.sizes = [1e9, 3.1e9];
    const md = compareMarkdown(d);
    expect(md).toMatch(/The seed's case, a 50 MB app-media change on the 3\.1 GB game \(1 run.*docker 100\.0 s .*gamelayer 2\.00 s .*\(1\.05×, target ≤ 1\.2×\): 50\.0× less wall time/);
    // The main targets name the game they were measured on.
    expect(md).toMatch(/≥ 20× less wall time than the docker path \(50 MB change, 1 GB game\): met\*\* — docker 40\.0 s/);
    // When the scenarios ran on the seed's game, there is no separate paragraph.
    d.options.main = 3.1e9;
    expect(compareMarkdown(d)).not.toContain("The seed's case");
  });

  it('puts the fresh host beside the warm one on the main change, with its targets (issue 15)', () => {
    const d = data([
      sample('docker', 'change', { wallMs: 60_000 }),
      sample('gamelayer', 'cold', { worker: { ...sample('gamelayer', 'cold').worker, phases: { scan: 9_000, hash: 8_000, layers: 20_000, images: 100, push: 5_000, upload: 4_000 } } }),
      sample('gamelayer', 'change', { wallMs: 2_000, uploadBytes: 44e6, downloadBytes: 3_000, worker: { ...sample('gamelayer', 'change').worker, built: 2 } }),
    ]);
    expect(compareMarkdown(d)).not.toContain('Fresh host');
    const fresh = { run: 0, gameSize: 1e9, wallMs: 9_000, uploadBytes: 44e6, downloadBytes: 40_000, built: 2, scanMs: 7_000, changedCompressed: 40e6, sameImages: true, plannedOn: '127.0.0.1:5000/compare/fresh:r0-noop' };
    d.fresh = [fresh];
    const md = compareMarkdown(d);
    expect(md).toContain('| warm host (.gamelayer/ kept) | 42.0 MiB | 2.93 KiB | 2.0 s | 2 | its local last build |');
    expect(md).toContain('| fresh host (no .gamelayer/) | 42.0 MiB | 39.1 KiB | 9.0 s | 2 | compare/fresh:r0-noop |');
    expect(md).toMatch(/Targets: sent 1\.1× the changed files compressed \(≤ 1\.2×: met\); downloaded 39\.1 KiB \(≤ 2 MiB \+ the record: met\); wall time 9\.00 s against the cold build's hashing 8\.00 s \+ 20 % = 9\.60 s \(met;/);
    expect(md).toContain('Same image digests as the warm host: yes.');
    d.fresh = [{ ...fresh, wallMs: 12_000, sameImages: false, uploadBytes: 60e6 }];
    expect(compareMarkdown(d)).toMatch(/sent 1\.5× .*\(≤ 1\.2×: missed\).*\(missed;.*Same image digests as the warm host: NO\./s);
  });

  it('takes the change curve from the game it ran on when that is not the main game', () => {
    const d = data([
      sample('docker', 'change', { wallMs: 40_000 }),
      sample('gamelayer', 'change', { wallMs: 1_000 }),
      sample('docker', 'change', { series: 'size-curve', gameSize: 2e9, wallMs: 90_000 }),
      sample('gamelayer', 'change', { series: 'size-curve', gameSize: 2e9, wallMs: 3_000 }),
      sample('docker', 'change', { series: 'change-curve', gameSize: 2e9, changeMb: 500, wallMs: 120_000 }),
      sample('gamelayer', 'change', { series: 'change-curve', gameSize: 2e9, changeMb: 500, wallMs: 12_000 }),
    ]);
    d.options = { ...d.options, sizes: [1e9, 2e9], changesMb: [50, 500], changesAt: 2e9 };
    const md = compareMarkdown(d);
    expect(md).toContain('As the change grows (game of 2 GB;');
    expect(md).toMatch(/\| 50 MB \| .* \| 90\.0 s \| 3\.00 s \| 0\.03× \|/);
    expect(md).toMatch(/\| 500 MB \| .* \| 120\.0 s \| 12\.0 s \| 0\.10× \|/);
  });

  it('draws every point of the chart at finite coordinates', () => {
    const svg = compareChart(
      data([
        sample('docker', 'cold', { wallMs: 30_000 }),
        sample('gamelayer', 'cold', { wallMs: 20_000 }),
        sample('docker', 'change', { wallMs: 10_000 }),
        sample('gamelayer', 'change', { wallMs: 1_000 }),
      ]),
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity/);
    // 4 size-curve points + 2 change-curve points + 3 in the bytes-sent-by-change panel + 4 + 4 bytes by size, and one per legend entry.
    const circles = svg.match(/<circle /g)?.length ?? 0;
    expect(circles).toBe(4 + 4 + 2 + 3 + (4 + 4 + 2 + 3));
  });
});
