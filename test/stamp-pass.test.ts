// The stamp pass (src/cli/fast-noop/stamp-pass.ts): a `build --push` that built or pushed runs its command once more
// in the same process, hidden, as a no-op that stamps it, so the first re-run is answered by the fast path. What the
// user sees of the build must not change: its output once, its exit code, whatever happens to the pass (a stop signal
// in the middle of it); and a game whose trees hold more entries than the pass is worth gets none. Real registry
// (behind a fault proxy that sends the signal at an exact request), the real CLI.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASS_MAX_ENTRIES } from '../src/cli/fast-noop/record.js';
import { runCli, startCli, type RunningCli } from './support/cli-process.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
const DEBUG = { GAMELAYER_DEBUG_FAST_NOOP: '1' };

/** A copy of the sample whose files were all written an hour ago: out of the scan's racy window, a pass can stamp. */
async function agedSample(extra?: (dir: string) => Promise<void>): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  await extra?.(dir);
  const past = new Date(Date.now() - 3_600_000);
  for (const name of await readdir(dir, { recursive: true })) if (name !== 'gamelayer.yaml') await utimes(path.join(dir, name), past, past);
  // The config's change time is now (utimes sets it): a stamp needs it a second old.
  await new Promise((r) => setTimeout(r, 1100));
  return dir;
}

const stamps = (dir: string) => readdir(path.join(dir, '.gamelayer', 'cache', 'fast-noop')).catch(() => [] as string[]);

describe('the stamp pass of a build that pushed', () => {
  it('shows nothing of itself: the build prints once, and a stop signal in the pass ends with the build\'s exit code and no stamp', async () => {
    const proxy = await startFaultProxy(registry.host);
    try {
      const dir = await agedSample();
      const args = ['build', '--push', `${proxy.host}/studio/pass-stop`, '--tag', 'v1', '--line', 'main'];
      // The build reads one blob (its server image's config, once pushed); its pass, a no-op, reads the record blob the
      // build pushed: the second blob GET. The signal goes out as that request arrives, held.
      let run: RunningCli | undefined;
      const held = new Promise<never>(() => {});
      proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, after: 1, action: { kind: 'hold', until: held, onHeld: () => void run!.child.kill('SIGTERM') } }]);
      run = startCli(args, { cwd: dir, env: DEBUG });
      const stopped = await run.result;
      expect(proxy.fired[0]).toBe(1);
      // It was the pass's: after the build's last write, the line tag.
      const requests = proxy.seen.map((r) => `${r.method} ${r.path}`);
      const heldAt = proxy.seen.findIndex((r) => r.fault === 0);
      expect(requests.lastIndexOf('PUT /v2/studio/pass-stop/manifests/gamelayer-line.main')).toBeLessThan(heldAt);
      expect(stopped.signal).toBeNull();
      expect(stopped.code).toBe(0);
      // The build's output, whole and once; none of the pass's.
      expect(stopped.stdout.split('\npushed to ').length).toBe(2);
      expect(stopped.stdout).toContain('build record sha256:');
      expect(stopped.stderr).not.toContain('up to date (');
      expect(stopped.stderr).not.toContain('stamp pass: done');
      expect(await stamps(dir)).toEqual([]);

      // Unstopped, the same: the build's output once, and the pass stamped.
      proxy.setRules([]);
      const other = ['build', '--push', `${proxy.host}/studio/pass-stop`, '--tag', 'v2', '--line', 'main'];
      await writeFile(path.join(dir, 'app', 'pass-stop.txt'), 'changed\n');
      const past = new Date(Date.now() - 3_600_000);
      await utimes(path.join(dir, 'app', 'pass-stop.txt'), past, past);
      const built = await runCli(other, { cwd: dir, env: DEBUG });
      expect(built.code).toBe(0);
      expect(built.stdout).toContain('layers: 1 built');
      expect(built.stdout.split('\npushed to ').length).toBe(2);
      expect(built.stderr).not.toContain('up to date (');
      expect(built.stderr).toMatch(/^gamelayer: stamp pass: done in \d+ ms$/m);
      expect(await stamps(dir)).toHaveLength(1);
      const again = await runCli(other, { cwd: dir, env: DEBUG });
      expect(again.code).toBe(0);
      expect(again.stderr).not.toContain('fast no-op path not taken');
      expect(again.stdout).toContain('layers: 0 built');
    } finally {
      await proxy.stop();
    }
  });

  it(`runs none when the trees hold more than ${PASS_MAX_ENTRIES} entries: the first re-run is the full path's, which stamps`, async () => {
    const dir = await agedSample(async (d) => {
      const many = path.join(d, 'app-media', 'many');
      await mkdir(many);
      for (let i = 0; i < PASS_MAX_ENTRIES; i++) await writeFile(path.join(many, `f${i}`), '');
    });
    const args = ['build', '--push', `${registry.host}/studio/pass-many`, '--tag', 'v1', '--line', 'main'];
    // The config written just before (a CI job templating it): the bound holds all the same.
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, await readFile(yaml, 'utf8'));
    const built = await runCli(args, { cwd: dir, env: DEBUG });
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(new RegExp(`no-op not stamped: no stamp pass: the trees hold \\d+ entries \\(above ${PASS_MAX_ENTRIES}\\)`));
    expect(built.stderr).not.toContain('stamp pass: done');
    expect(await stamps(dir)).toEqual([]);
    const full = await runCli(args, { cwd: dir, env: DEBUG });
    expect(full.stderr).toContain('fast no-op path not taken: no stamp');
    await new Promise((r) => setTimeout(r, 1100));
    const settled = await runCli(args, { cwd: dir, env: DEBUG });
    expect(settled.stdout).toContain('layers: 0 built');
    expect(await stamps(dir)).toHaveLength(1);
  });

  it('only reads: a tree file saved during the push leaves the pass planning another build, which it stops before building or writing anything', async () => {
    const proxy = await startFaultProxy(registry.host);
    try {
      const dir = await agedSample();
      const repo = `${proxy.host}/studio/pass-edit`;
      const args = ['build', '--push', repo, '--tag', 'v1', '--line', 'main'];
      // The build's last write is the line tag: a file of the app saved as it goes out (its time an hour back, so the
      // pass is not held off by the racy window), after the build read the trees.
      const saved = path.join(dir, 'app', 'saved-during-push.txt');
      proxy.setRules([{ method: 'PUT', path: /\/manifests\/gamelayer-line\.main$/, action: { kind: 'around', before: async () => {
        await writeFile(saved, 'saved while the build pushed\n');
        const past = new Date(Date.now() - 3_600_000);
        await utimes(saved, past, past);
      } } }]);
      const built = await runCli(args, { cwd: dir, env: DEBUG });
      expect(proxy.fired[0]).toBe(1);
      expect(built.code, built.stderr).toBe(0);
      const printed = /server image v1 = (sha256:[0-9a-f]{64})/.exec(built.stdout)![1];
      expect(built.stderr).toMatch(/stamp pass: stopped, not a no-op of the build: its plan has other layers than the build in \d+ ms/);
      // The registry's v1 and the line are the build's, as printed: no hidden build was pushed.
      const head = await fetch(`http://${registry.host}/v2/studio/pass-edit/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } });
      expect(head.headers.get('docker-content-digest')).toBe(printed);
      const writes = proxy.seen.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
      expect(writes.at(-1)).toMatchObject({ method: 'PUT', path: '/v2/studio/pass-edit/manifests/gamelayer-line.main' });
      // Nor was one written locally: the store's v1 and the last build are the printed build.
      const inspect = await runCli(['inspect', '--json'], { cwd: dir });
      expect(inspect.stdout).toContain(printed);
      expect(await stamps(dir)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('one attempt per request: a registry failing as the pass starts is not retried, and the build exits with its own code', async () => {
    const proxy = await startFaultProxy(registry.host);
    try {
      const dir = await agedSample();
      const args = ['build', '--push', `${proxy.host}/studio/pass-503`, '--tag', 'v1', '--line', 'main'];
      // The pass reads the record blob the build pushed: the second blob GET (the build reads one, its server image's
      // config). It, and any attempt again, answered as a registry in trouble answers: 503.
      proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, after: 1, count: Number.MAX_SAFE_INTEGER, action: { kind: 'status', status: 503 } }]);
      const built = await runCli(args, { cwd: dir, env: DEBUG });
      expect(built.code, built.stderr).toBe(0);
      expect(built.stdout).toContain('build record sha256:');
      expect(built.stderr).toMatch(/stamp pass: failed \(exit \d+/);
      // Asked once: a request failing so is attempted 6 times by default, about 5 s of waits.
      expect(proxy.fired[0]).toBe(1);
      expect(built.stderr).toMatch(/stamp pass: failed \(exit \d+: error\[registry\.retries\].* after 1 attempt/);
    } finally {
      await proxy.stop();
    }
  });

  for (const [fault, said] of [['hang', /stamp pass: given up \(nothing left to run, unsettled\)/], ['reject', /stamp pass: failed: a rejection nobody handles, in the pass/]] as const) {
    it(`ends with the build's exit code when the pass ${fault === 'hang' ? 'waits on what never settles' : 'leaves a rejection nobody handles'}`, async () => {
      const dir = await agedSample();
      const args = ['build', '--push', `${registry.host}/studio/pass-${fault}`, '--tag', 'v1', '--line', 'main'];
      const built = await runCli(args, { cwd: dir, env: { ...DEBUG, GL_TEST_PASS_FAULT: fault }, nodeArgs: ['--require', path.resolve('test/support/stamp-pass-faults.cjs')] });
      expect(built.code, built.stderr).toBe(0);
      expect(built.stdout).toContain('build record sha256:');
      expect(built.stderr).toMatch(said);
      expect(built.stderr).not.toContain('a rejection nobody handles, in the pass\n    at');
      expect(await stamps(dir)).toEqual([]);
    });
  }
});

describe('the state folder a stamp vouches for', () => {
  it('leaves out the validated config: another code identity\'s entry (the library\'s, `--builder docker`) keeps the fast path', async () => {
    const dir = await agedSample();
    const args = ['build', '--push', `${registry.host}/studio/pass-validated`, '--tag', 'v1', '--line', 'main'];
    const built = await runCli(args, { cwd: dir, env: DEBUG });
    expect(built.stderr).toMatch(/stamp pass: done in \d+ ms/);
    const cache = path.join(dir, '.gamelayer', 'cache');
    const [entry] = (await readdir(cache)).filter((n) => n.startsWith('validated-config-'));
    expect(entry).toBeDefined();
    // What the library's load of the same config writes there (another key: its code identity), as a stand-in.
    await writeFile(path.join(cache, entry!), 'an entry of another gamelayer\n');
    const again = await runCli(args, { cwd: dir, env: DEBUG });
    expect(again.stderr).not.toContain('fast no-op path not taken');
    expect(again.stdout).toContain('layers: 0 built');
  });
});

describe('a studio game (mountFrom:)', () => {
  it('is never stamped, by its pass or its no-op: its no-op reads the other games\' records, which no stamp checks', async () => {
    const dir = await agedSample(async (d) => {
      const yaml = path.join(d, 'gamelayer.yaml');
      await writeFile(yaml, `${await readFile(yaml, 'utf8')}\nmountFrom: [studio/other-game]\n`);
    });
    const args = ['build', '--push', `${registry.host}/studio/pass-mount`, '--tag', 'v1', '--line', 'main'];
    const built = await runCli(args, { cwd: dir, env: DEBUG });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain("no-op not stamped: mountFrom: names other games' repositories");
    expect(built.stderr).not.toContain('stamp pass:');
    const noop = await runCli(args, { cwd: dir, env: DEBUG });
    expect(noop.stdout).toContain('layers: 0 built');
    expect(noop.stderr).toContain("no-op not stamped: mountFrom: names other games' repositories");
    expect(await stamps(dir)).toEqual([]);
  });
});

describe('the output a candidate run keeps for its stamp', () => {
  it('stops keeping at 1 MiB of text (overflowed: the run is not stamped) and keeps a pass\'s output without showing it', async () => {
    // The tap as the launcher installs it, in a child: 2 MiB printed in 64 KiB writes, then a pass's one line.
    const script = [
      `import { writeSync } from 'node:fs';`,
      `import { beginPass, installOutputTap, pendingStamp } from ${JSON.stringify(path.resolve('src/cli/fast-noop/output-tap.ts'))};`,
      `installOutputTap(['build', '--push', 'r.example/game'], '.');`,
      `for (let i = 0; i < 32; i++) process.stdout.write('x'.repeat(65536));`,
      `const p = pendingStamp();`,
      `const before = { overflowed: p.overflowed, kept: p.stdout.join('').length };`,
      `beginPass(p);`,
      // Around the tap (which hides a pass's stderr too): the result straight to fd 2.
      `process.stdout.write('hidden\\n', () => writeSync(2, JSON.stringify({ before, pass: p.stdout, overflowed: p.overflowed }) + '\\n'));`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 8 << 20 });
    expect(child.status, child.stderr).toBe(0);
    // Shown whole; the pass's line not shown.
    expect(child.stdout.length).toBe(32 * 65536);
    expect(child.stdout).not.toContain('hidden');
    const seen = JSON.parse(child.stderr.trim().split('\n').at(-1)!) as { before: { overflowed: boolean; kept: number }; pass: string[]; overflowed: boolean };
    expect(seen.before).toEqual({ overflowed: true, kept: 0 });
    expect(seen.pass).toEqual(['hidden\n']);
    expect(seen.overflowed).toBe(false);
  });
});
