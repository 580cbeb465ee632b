// npm run bench -- fresh-host-day: one day of the daemonless CodeBuild buildspec with --sbom on a fresh host, counted
// request by request at a proxy in front of the registry. Day 0 runs the emitted phases (pre_build's diff, the build
// and push with its SBOM, post_build's specs and pull-cost diff) in one checkout; the game changes (--change-mb of
// app-media, random bytes); day 1 runs them in another checkout with no .gamelayer/ (a new CodeBuild host), the
// previous commit as the baseline. Its bytes and requests are set against the physical limit measured in the same
// run: the bytes the change wrote (random, so they compress to about themselves) for what is sent, and the previous
// build's record (what a host that keeps nothing must learn) for what is downloaded. The figures up to stop 46 are
// derived from the same run: every kept layer downloaded for the SBOM's hashes, and the record blob three times.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { parseBuildspec } from '../src/codebuild/buildspec-schema.js';
import { DEFAULT_AVG_CHUNK_SIZE, DEFAULT_CHUNK_MIN_FILE_SIZE } from '../src/config/schema.js';
import { formatBytes } from '../src/report/reporter.js';
import { runBuildspecPhases } from '../test/support/buildspec-run.js';
import { startRegistry } from '../test/support/registry.js';
import { benchProject, type BenchChunking } from './fresh-host.js';
import { BENCH_DIR, machine, writeReportSection } from './lib.js';
import { startCountingProxy, type ProxyRequest } from './registry-proxy.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');
const COMMITS = ['3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345', '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5'] as const;

export interface FreshHostDayOptions extends BenchChunking {
  size: number;
  changeMb: number;
}

interface RecordLayers {
  layers: { digest: string; size: number; tree?: string }[];
}

/** What kind of request this is, for the table: a layer's blob, the previous record's, another blob, a manifest… */
function kindOf(r: ProxyRequest, layers: ReadonlySet<string>, recordBlob: string): string {
  const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path)?.[1];
  if (['PATCH', 'PUT', 'POST'].includes(r.method)) return /\/manifests\//.test(r.path) ? 'manifest PUT' : 'blob upload (POST/PATCH/PUT)';
  if (r.method === 'HEAD') return blob ? 'blob HEAD' : 'manifest HEAD';
  if (r.method !== 'GET') return r.method;
  if (blob === recordBlob) return 'GET of the previous record blob';
  if (blob && layers.has(blob)) return 'GET of a layer blob';
  if (blob) return 'GET of another blob (configs, SBOM)';
  if (/\/manifests\//.test(r.path)) return 'manifest GET';
  if (/\/tags\/list/.test(r.path)) return 'tags list';
  return 'other GET (/v2/, referrers)';
}

export async function freshHostDayBench(o: FreshHostDayOptions): Promise<void> {
  const work = path.join(os.tmpdir(), `gl-bench-fresh-day-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  const game = path.join(work, 'game');
  const gen = await generateGame({ out: game, size: o.size, seed: 'bench-fresh-host', game: 'fresh-game' });
  const registry = await startRegistry();
  const [host, port] = registry.host.split(':');
  const proxy = await startCountingProxy({ host: host!, port: Number(port) }, { log: true });
  const repo = `${proxy.host}/bench/game`;
  try {
    const day0 = await benchProject(path.join(work, 'day0'), game, o);
    const day1 = await benchProject(path.join(work, 'day1'), game, o);
    const spec = parseBuildspec((await run(process.execPath, [BIN, 'codebuild', 'buildspec', '--sbom'], { cwd: day1 })).stdout, 'the emitted buildspec');
    const phases = async (dir: string, day: number) => {
      const host = path.join(work, `host${day}`);
      await mkdir(host, { recursive: true });
      const env = { REPOSITORY_URI: repo, GAMELAYER_LINE: 'main', CODEBUILD_RESOLVED_SOURCE_VERSION: COMMITS[day]!, ...(day ? { CODEBUILD_WEBHOOK_PREV_COMMIT: COMMITS[day - 1]! } : {}) };
      const from = proxy.requests().length;
      const t0 = Date.now();
      const r = await runBuildspecPhases(spec, dir, env, host);
      if (r.code !== 0) throw new Error(`day ${day}'s phases failed (${r.code}):\n${r.stderr.slice(-4000)}`);
      return { wallMs: Date.now() - t0, requests: proxy.requests().slice(from) };
    };
    await phases(day0, 0);
    const change = await mutateGame({ dir: game, mb: o.changeMb, seed: 'bench-fresh-host-change' });
    const changed = change.totals.bytesWritten;
    // The physical limit of what is sent: the changed files' new bytes, compressed (gzip -6, the layers' codec).
    let changedGzip = 0;
    for (const c of change.changes) if (c.after !== null) changedGzip += gzipSync(await readFile(path.join(game, c.tree, c.path)), { level: 6 }).length;
    const day = await phases(day1, 1);

    // The previous build: its layers and its record blob, as the registry holds them.
    const previous = JSON.parse(await readFile(path.join(day0, '.gamelayer/records/build-last.json'), 'utf8')) as RecordLayers;
    const current = JSON.parse(await readFile(path.join(day1, '.gamelayer/records/build-last.json'), 'utf8')) as RecordLayers;
    // The record tag names an index; its manifest (the artifact) names the record blob.
    const manifest = async (ref: string) =>
      (await (await fetch(`http://${registry.host}/v2/bench/game/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } })).json()) as {
        manifests?: { digest: string; artifactType?: string }[];
        layers?: { digest: string; size: number }[];
      };
    const recordIndex = await manifest(`${COMMITS[0].slice(0, 8)}.gamelayer-record`);
    const artifact = recordIndex.manifests!.find((m) => m.artifactType?.includes('build-record')) ?? recordIndex.manifests!.at(-1)!;
    const recordBlob = (await manifest(artifact.digest)).layers![0]!;
    const layers = new Set([...previous.layers, ...current.layers].map((l) => l.digest));
    const kept = current.layers.filter((l) => previous.layers.some((p) => p.digest === l.digest));
    const keptBytes = kept.reduce((n, l) => n + l.size, 0);
    // Of those, the chunked trees' (stop 46 hashed only unchunked trees from their sources; this stop, chunked ones too).
    const keptChunked = kept.filter((l) => l.tree !== undefined && o.chunk?.includes(l.tree)).reduce((n, l) => n + l.size, 0);

    const rows = new Map<string, { n: number; up: number; down: number }>();
    for (const r of day.requests) {
      const k = kindOf(r, layers, recordBlob.digest);
      const row = rows.get(k) ?? { n: 0, up: 0, down: 0 };
      row.n++;
      row.up += r.up;
      row.down += r.down;
      rows.set(k, row);
    }
    const sent = day.requests.reduce((n, r) => n + r.up, 0);
    const downloaded = day.requests.reduce((n, r) => n + r.down, 0);
    const recordGets = rows.get('GET of the previous record blob')?.n ?? 0;
    const layerGets = rows.get('GET of a layer blob')?.n ?? 0;
    const before = downloaded + keptBytes + Math.max(0, 3 - recordGets) * recordBlob.size;
    const md = [
      `Game ${formatBytes(gen.bytes)} (generated, seed bench-fresh-host), ${current.layers.length} layers; change: ${o.changeMb} MB of app-media (${formatBytes(changed)} written). ${machine()}; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
      '',
      `Day 1 on a fresh host, the phases of \`gamelayer codebuild buildspec --sbom\` (pre_build diff, build --push --sbom, post_build k8s, imagedefinitions and the pull-cost diff against day 0): ${day.requests.length} requests, ${(day.wallMs / 1000).toFixed(1)} s.`,
      '',
      '| requests of the day | count | sent | downloaded |',
      '| --- | --- | --- | --- |',
      ...[...rows].sort(([a], [b]) => a.localeCompare(b)).map(([k, r]) => `| ${k} | ${r.n} | ${formatBytes(r.up)} | ${formatBytes(r.down)} |`),
      `| **total** | ${day.requests.length} | ${formatBytes(sent)} | ${formatBytes(downloaded)} |`,
      '',
      `Against the physical limit measured in this run: sent ${formatBytes(sent)} = ${(sent / changedGzip).toFixed(2)} × the changed files' new bytes compressed (${formatBytes(changedGzip)} with gzip -6; ${formatBytes(changed)} written), ` +
        `the rest being the changed tree's sentinel, configs, manifests, the SBOM and the record; downloaded ${formatBytes(downloaded)} = ${(downloaded / recordBlob.size).toFixed(2)} × the previous record blob ` +
        `(${formatBytes(recordBlob.size)}, what a host that keeps nothing must read to plan), with ${recordGets} GET${recordGets === 1 ? '' : 's'} of the record blob and ${layerGets} of a layer.`,
      `Up to stop 46 the same day downloaded ${formatBytes(before)} (${(before / downloaded).toFixed(0)} × this): every kept layer for the SBOM's hashes (${kept.length} layers, ${formatBytes(keptBytes)}${o.chunk?.length ? `, of which the chunked trees' ${formatBytes(keptChunked)}, still downloaded until stop 47` : ''}) and the record blob three times (pre_build's diff, the build, the pull-cost diff; now once, then \`.gamelayer/cache/record-blobs/\`).`,
      '',
      '```',
      `npm run bench -- fresh-host-day --fresh-size ${Math.round(o.size / 1e6)}MB --change-mb ${o.changeMb}${(o.chunk ?? []).map((c) => ` --chunk ${c}`).join('')}${o.chunk?.length ? ` --chunk-min ${o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE} --chunk-avg ${o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE}` : ''}`,
      '```',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await writeReportSection(o.chunk?.length ? 'fresh-host-day-chunked' : 'fresh-host-day', md);
    if (layerGets) throw new Error(`the fresh host downloaded ${layerGets} layers`);
  } finally {
    await proxy.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
