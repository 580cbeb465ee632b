// npm run bench -- supply-chain [--runs 3]: what checking and signing cost against a registry, beside the floor of a
// registry round trip measured in the same run. `verify --require-sbom` of the two-platform sample built and pushed by
// one host with --sbom --sign (the index, its two platform manifests and the SBOM: signatures, documents); `index
// --sign` of the same sample merged from two platform builds (the CodeBuild batch graph's merge job), once on a fresh
// repository (every merged index signed) and once more (all already there). The reference: `skopeo inspect --raw` of
// the same tag (a process start, the registry's ping and one manifest GET), and `gamelayer --version` (the CLI's start
// alone). cosign is not installed here, so no other signer is measured. Everything against a local distribution
// registry: requests cost no network latency, and the request counts say what a remote registry would add.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { copyTwoPlatformSample } from '../test/support/sample-copy.js';
import { BENCH_DIR, machine, median, writeReportSection } from './lib.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');

export interface SupplyChainOptions {
  runs: number;
}

interface Timed {
  ms: number;
  requests: number;
  stdout: string;
}

/** Runs `cmd` once: its wall time and the requests the registry logged meanwhile. */
async function timed(reg: TestRegistry, cmd: string, args: string[], cwd: string): Promise<Timed> {
  const before = (await reg.accessLog()).length;
  const t0 = process.hrtime.bigint();
  const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, requests: (await reg.accessLog()).length - before, stdout };
}

export async function supplyChainBench(o: SupplyChainOptions): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'gl-bench-supply-'));
  const reg = await startRegistry();
  try {
    const key = path.join(work, 'key.pem');
    const pub = path.join(work, 'pub.pem');
    await run('sh', ['-c', 'openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null'], { cwd: work });
    const game = path.join(work, 'game');
    await copyTwoPlatformSample(game);
    const cli = (cwd: string, ...args: string[]) => run(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20 });
    const gl = (args: string[], cwd = game) => timed(reg, process.execPath, [BIN, ...args], cwd);
    const skopeo = (ref: string) => timed(reg, 'skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`], game);

    // One host, both platforms: the image verify checks.
    const signed = `${reg.host}/bench/signed`;
    await cli(game, 'build', '--push', signed, '--tag', 'v1', '--sbom', '--sign', key);
    // Platform builds (each with its SBOM and signatures), merged per run into a fresh repository by index --sign.
    const hosts: Record<string, string> = {};
    for (const p of ['linux/amd64', 'linux/arm64']) {
      hosts[p] = path.join(work, p.replace('/', '-'));
      await copyTwoPlatformSample(hosts[p]!);
      await cli(hosts[p]!, 'build', '--platform', p, '--tag', 'v1');
    }
    const merger = path.join(work, 'merger');
    await copyTwoPlatformSample(merger);

    const rows: Record<string, Timed[]> = { floor: [], start: [], verify: [], floorMerged: [], indexCold: [], indexAgain: [] };
    for (let i = 0; i < o.runs; i++) {
      const merged = `${reg.host}/bench/merged-${i}`;
      for (const [p, dir] of Object.entries(hosts)) await cli(dir, 'build', '--platform', p, '--tag', 'v1', '--push', merged, '--sbom', '--sign', key);
      await cli(merger, 'index', merged, '--tag', 'v1');
      // Interleaved, each reference beside what it is the floor of.
      rows.floor!.push(await skopeo(`${signed}:v1`));
      rows.start!.push(await gl(['--version']));
      rows.verify!.push(await gl(['verify', `${signed}:v1`, '--key', pub, '--require-sbom']));
      rows.floorMerged!.push(await skopeo(`${merged}:v1`));
      rows.indexCold!.push(await gl(['index', merged, '--tag', 'v1', '--sign', key], merger));
      rows.indexAgain!.push(await gl(['index', merged, '--tag', 'v1', '--sign', key], merger));
    }
    const verifyItems = rows.verify![0]!.stdout.trim().split('\n').length;
    const signedCold = rows.indexCold![0]!.stdout.match(/^signatures: .*$/m)?.[0] ?? '';
    const signedAgain = rows.indexAgain![0]!.stdout.match(/^signatures: .*$/m)?.[0] ?? '';
    const ms = (t: Timed[]) => {
      const xs = t.map((x) => x.ms);
      return `${(median(xs) / 1000).toFixed(2)} s (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)} s)`;
    };
    const req = (t: Timed[]) => String(median(t.map((x) => x.requests)));
    const ratio = (t: Timed[], floor: Timed[]) => `${(median(t.map((x) => x.ms)) / median(floor.map((x) => x.ms))).toFixed(1)}×`;
    const md = [
      `### Supply chain — verify and index --sign against the floor of a registry round trip`,
      '',
      `The two-platform sample (fixtures/sample-game, linux/amd64 and linux/arm64). ${o.runs} runs, interleaved, medians (min–max), whole processes; a local distribution registry (no network latency: the request counts say what a remote one adds). ${machine()}, 2 cores shared with other work. cosign is not installed here: the references are \`skopeo inspect --raw\` of the same tag (process start, the registry's ping, one manifest GET) and \`gamelayer --version\` (the CLI's start alone).`,
      '',
      '| command | wall time | registry requests | ratio to skopeo inspect --raw |',
      '| --- | --- | --- | --- |',
      `| reference: \`skopeo inspect --raw\` of the one-host tag | ${ms(rows.floor!)} | ${req(rows.floor!)} | 1 |`,
      `| reference: \`gamelayer --version\` | ${ms(rows.start!)} | 0 | ${ratio(rows.start!, rows.floor!)} |`,
      `| \`verify --require-sbom\` of the one-host build (${verifyItems} items: the index, its 2 platform manifests, the SBOM) | ${ms(rows.verify!)} | ${req(rows.verify!)} | ${ratio(rows.verify!, rows.floor!)} |`,
      `| reference: \`skopeo inspect --raw\` of the merged tag | ${ms(rows.floorMerged!)} | ${req(rows.floorMerged!)} | 1 |`,
      `| \`index --sign\` of the two platform builds, fresh repository ("${signedCold}") | ${ms(rows.indexCold!)} | ${req(rows.indexCold!)} | ${ratio(rows.indexCold!, rows.floorMerged!)} |`,
      `| \`index --sign\` again ("${signedAgain}") | ${ms(rows.indexAgain!)} | ${req(rows.indexAgain!)} | ${ratio(rows.indexAgain!, rows.floorMerged!)} |`,
      '',
      'Each run merges a fresh repository with `index` (no --sign, not measured) after the two platform builds pushed to it with `--sbom --sign`; the first `index --sign` then finds the merged indexes there, reads every index, platform manifest and SBOM, and signs the 5 merged indexes and their 10 platform manifests under the merged tags\' names (the platform builds signed those manifests under their own tags) side by side (docs/supply-chain.md). Run again, it finds each signature under its name and sends nothing, but still reads what it would sign. The "signatures:" lines quoted are from the first run.',
      '',
      '```',
      `npm run bench -- supply-chain --runs ${o.runs}`,
      '```',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await writeReportSection('supply-chain', md);
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
}
