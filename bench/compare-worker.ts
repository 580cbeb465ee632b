// One build-and-push of the compare bench, in its own process (so its CPU time and peak RSS are its own):
//   compare-worker.ts gamelayer CONFIG REPOSITORY TAG   daemonless build, then push of the five images
//   compare-worker.ts docker    CONFIG REPOSITORY TAG   docker build of the emitted Dockerfile (buildWithDocker), then
//                                                        `docker push` with the docker CLI (DOCKER_HOST)
// Prints one JSON line (see lib.ts report()) with the time per phase, taken from the reporter's task start and
// end (no extra instrumentation in the code measured). The docker CLI's CPU time is reported as childCpuMs.
// (buildWithDocker's own push is not used: Docker 20.10 refuses a push without an X-Registry-Auth header, which
// dockerode only sends with credentials; the CLI always sends one, and `docker push` is the seed's method anyway.)
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { loadConfig } from '../src/config/load.js';
import { buildWithDocker } from '../src/docker/daemon-build.js';
import type { Reporter } from '../src/report/reporter.js';
import { report } from './lib.js';

const [method, configFile, repository, tag, from] = process.argv.slice(2);
if (!configFile || !repository || !tag || (method !== 'gamelayer' && method !== 'gamelayer-fresh' && method !== 'docker') || (method === 'gamelayer-fresh' && !from)) {
  throw new Error('usage: compare-worker.ts gamelayer|docker CONFIG REPOSITORY TAG, or gamelayer-fresh CONFIG REPOSITORY TAG FROM');
}

interface Span {
  label: string;
  start: number;
  end: number;
}

const t0 = performance.now();
const spans: Span[] = [];
const warnings: string[] = [];
const timing: Reporter = {
  info() {},
  warn(m) {
    warnings.push(m);
    process.stderr.write(`compare-worker: warning: ${m}\n`);
  },
  task(label) {
    const span: Span = { label, start: performance.now() - t0, end: Number.NaN };
    spans.push(span);
    return { tick() {}, done: () => void (span.end = performance.now() - t0) };
  },
};

/** Wall time covered by the spans whose label matches (overlaps counted once). */
function covered(re: RegExp): number {
  const s = spans.filter((x) => re.test(x.label) && Number.isFinite(x.end)).sort((a, b) => a.start - b.start);
  let total = 0;
  let until = -Infinity;
  for (const x of s) {
    const from = Math.max(x.start, until);
    if (x.end > from) total += x.end - from;
    until = Math.max(until, x.end);
  }
  return total;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU time of this process's children that ended (the docker CLI), from /proc/self/stat cutime + cstime. */
async function childCpuMs(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // clock ticks: USER_HZ, 100 on Linux
}

const config = await loadConfig(configFile);

await report(async () => {
  if (method === 'gamelayer' || method === 'gamelayer-fresh') {
    // gamelayer-fresh: a host without .gamelayer/, planned on the previous build's record in the registry (FROM) as
    // `build --push REPO --from FROM` plans; its kept layers are checked there, never downloaded.
    const r = await build({ config, tag, reporter: timing, ...(method === 'gamelayer-fresh' ? { push: repository, from } : {}) });
    const buildMs = performance.now() - t0;
    const buildCpuMs = cpuMs();
    const p = await pushBuild({ store: r.store, record: r.record, repository, reporter: timing });
    const pushMs = performance.now() - t0 - buildMs;
    const layersMs = covered(/^build \d+ layers$/);
    const s = r.summary;
    return {
      phases: {
        scan: s.scanMs,
        hash: covered(/^hash /),
        layers: layersMs,
        images: Math.max(0, buildMs - s.scanMs - layersMs),
        push: pushMs,
        upload: covered(/^blob /),
      },
      buildMs,
      buildCpuMs,
      pushCpuMs: cpuMs() - buildCpuMs,
      built: s.built,
      reused: s.reused,
      bytesNew: s.bytesNew,
      bytesTotal: s.bytesTotal,
      contentBytes: s.layers.reduce((n, l) => n + l.bytes, 0),
      contentBuilt: s.layers.filter((l) => !l.reused).reduce((n, l) => n + l.bytes, 0),
      layers: s.layers.length,
      trees: s.trees.map((t) => ({ tree: t.tree, decision: t.decision, reason: t.reason })),
      /** The client's own count, kept for comparison only: the report uses the registry side's. */
      clientBytesSent: p.bytesSent,
      /** The images built (server first): a fresh host must build the same digests as a warm one. */
      digests: r.record.images.map((i) => i.digest),
      previous: s.previous.ref ?? s.previous.source,
      blobs: p.blobs,
      warnings,
    };
  }
  const r = await buildWithDocker({ config, tag, repository, push: false, compat: true, trees: false, reporter: timing });
  const img = r.images[0]!;
  const pushStart = performance.now() - t0;
  const { stdout } = await promisify(execFile)('docker', ['push', img.ref], { maxBuffer: 16 << 20 });
  const pushMs = performance.now() - t0 - pushStart;
  const total = performance.now() - t0;
  const buildSpan = spans.find((x) => x.label.startsWith('docker '));
  const buildMs = covered(/^docker /);
  return {
    phases: {
      scan: buildSpan ? buildSpan.start : 0,
      build: buildMs,
      push: pushMs,
      other: Math.max(0, total - (buildSpan?.start ?? 0) - buildMs - pushMs),
    },
    steps: img.steps,
    cachedSteps: img.cachedSteps,
    daemon: r.daemon.version,
    builder: r.buildkit ? 'BuildKit' : 'legacy',
    pushedDigest: /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1],
    pushLog: stdout.trim().split('\n').slice(-12),
    childCpuMs: await childCpuMs(),
    warnings,
  };
});
