// Runs the emitted init-container and engine commands for real with sh on temp directories: the copy, the
// sentinel, and the engine refusing to start without it. The engine's view of the volumes is made the way the
// kubelet makes it: bind mounts in a private mount namespace (unshare, as root).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployInputFrom, type DeployInput } from '../src/k8s/input.js';
import { COPY_SENTINEL, TREE_SENTINEL, copyScript } from '../src/k8s/scripts.js';
import { k8sWorkload } from '../src/k8s/workloads.js';
import { ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';

const isRoot = process.getuid?.() === 0;
const hasBusybox = existsSync('/usr/bin/busybox');
const UID = 1000;

let tmp: string;
let mounts: Record<TreeName, string>;
let copyRoot: string;
let bbBin: string;

beforeEach(() => {
  // Its folders are the trees' mount paths in gamelayer.yaml, which refuses paths under /dev (the container runtime's):
  // not in the run's temp folder when that is on /dev/shm (test/support/memory-tmp.ts).
  tmp = mkdtempSync(path.join(tmpdir().startsWith('/dev/') ? '/tmp' : tmpdir(), 'gl-k8s-sh-'));
  chmodSync(tmp, 0o755);
  // A quote and a blank in the paths: every path in the scripts must be quoted.
  mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, path.join(tmp, "image's root", 'opt', t)])) as Record<TreeName, string>;
  copyRoot = path.join(tmp, 'mnt x');
  bbBin = path.join(tmp, 'busybox-bin');
  mkdirSync(bbBin);
  for (const applet of ['sh', 'cp', 'chmod', 'rm', 'echo', '[', 'cat', 'id']) symlinkSync('/usr/bin/busybox', path.join(bbBin, applet));
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function inputFor(): DeployInput {
  const input = deployInputFrom(fixtureConfig('', tmp, mounts), fixtureRecord(), REPOSITORY);
  // The engine "starts" by leaving a mark, so a test sees whether it ran.
  const out = path.join(tmp, 'out');
  mkdirSync(out, { recursive: true });
  chmodSync(out, 0o777);
  input.start = ['sh', '-c', 'echo "engine started in $(pwd)" > "$1"', 'engine', path.join(out, 'started')];
  return input;
}

/** Fills each tree's image path with content worth copying: nesting, hidden files, links, odd names, modes. */
function writeTrees(): void {
  for (const t of TREE_NAMES) {
    const root = mounts[t];
    mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(root, 'readme.txt'), `tree ${t}\n`);
    writeFileSync(path.join(root, '.hidden'), 'hidden\n');
    writeFileSync(path.join(root, "it's a file.cfg"), 'quoted name\n');
    writeFileSync(path.join(root, 'sub', 'deeper', 'data.pak'), Buffer.alloc(70_000, 7));
    writeFileSync(path.join(root, 'sub', 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    chmodSync(path.join(root, 'sub', 'run.sh'), 0o755);
    symlinkSync('sub/deeper/data.pak', path.join(root, 'data.link'));
  }
}

/** A kubelet-made emptyDir: root-owned, world-writable, setgid. */
function makeVolumes(): void {
  for (const t of TREE_NAMES.slice(1)) {
    const dir = path.join(copyRoot, t);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o2777);
  }
}

/** Path → [type, mode, content or link target], for comparing a copy with its source. */
function snapshot(root: string, skip: string[] = []): Record<string, [string, number, string]> {
  const out: Record<string, [string, number, string]> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.includes(r)) continue;
      const st = lstatSync(path.join(root, r));
      if (st.isSymbolicLink()) out[r] = ['link', 0, readlinkSync(path.join(root, r))];
      else if (st.isDirectory()) {
        out[r] = ['dir', st.mode & 0o777, ''];
        walk(r);
      } else out[r] = ['file', st.mode & 0o777, readFileSync(path.join(root, r)).toString('base64')];
    }
  };
  walk('');
  return out;
}

interface RunAs {
  uid?: number;
  busybox?: boolean;
}

/** Runs an emitted argv, optionally as another user and with only busybox on PATH (a minimal base image). */
function run(argv: string[], as: RunAs = {}, cwd = tmp): SpawnSyncReturns<string> {
  const env = { PATH: as.busybox ? bbBin : '/usr/sbin:/usr/bin:/sbin:/bin' };
  const prefix = as.uid === undefined ? [] : ['setpriv', `--reuid=${as.uid}`, `--regid=${as.uid}`, '--clear-groups'];
  const full = [...prefix, ...argv];
  return spawnSync(as.uid === undefined ? argv[0]! : '/usr/bin/setpriv', as.uid === undefined ? argv.slice(1) : full.slice(1), {
    cwd,
    env,
    encoding: 'utf8',
  });
}

/**
 * Runs the engine container's argv where each copy volume is bind-mounted at its tree's mount path, as the kubelet
 * does, in a private mount namespace so nothing leaks to the host.
 */
function runEngine(engine: IContainer, binds: [string, string][], as: RunAs = {}): SpawnSyncReturns<string> {
  const argv = [...engine.command!, ...(engine.args ?? [])];
  const mountsScript = binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"`).join(' && ');
  const shift = binds.length * 2;
  const drop = as.uid === undefined ? [] : ['setpriv', `--reuid=${as.uid}`, `--regid=${as.uid}`, '--clear-groups'];
  const inner = [...drop, 'env', `PATH=${as.busybox ? bbBin : '/usr/bin:/bin'}`, ...argv];
  const script = `set -e; ${mountsScript || ':'}; shift ${shift}; cd "${engine.workingDir}"; exec "$@"`;
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'bind', ...binds.flat(), ...inner], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}

function podOf(input: DeployInput, volumes: 'init' | 'image' = 'init'): IPod {
  return k8sWorkload(input, { kind: 'pod', volumes, copyRoot }).object as IPod;
}

const variants: { label: string; as: RunAs; needs: boolean }[] = [
  { label: 'dash + GNU cp as root', as: {}, needs: true },
  { label: `dash + GNU cp as uid ${UID}`, as: { uid: UID }, needs: isRoot },
  { label: `busybox sh + cp as uid ${UID}`, as: { uid: UID, busybox: true }, needs: isRoot && hasBusybox },
];

describe('emitted init containers and engine guard, run with sh', () => {
  it('runs as root with setpriv, unshare and busybox available (the CI machine)', () => {
    // The variants below need these; fail loudly rather than silently testing less.
    expect(isRoot).toBe(true);
    expect(hasBusybox).toBe(true);
  });

  for (const v of variants) {
    it.runIf(v.needs)(`copies every tree with its sentinel, then the engine starts (${v.label})`, () => {
      writeTrees();
      makeVolumes();
      const input = inputFor();
      const pod = podOf(input);
      const inits = pod.spec!.initContainers!;
      expect(inits.map((c) => c.name)).toEqual(['copy-engine-media', 'copy-app', 'copy-app-media']);
      for (const c of inits) {
        const r = run(c.command!, v.as);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      for (const t of TREE_NAMES.slice(1)) {
        const target = path.join(copyRoot, t);
        expect(existsSync(path.join(target, COPY_SENTINEL))).toBe(true);
        expect(snapshot(target, [COPY_SENTINEL])).toEqual(snapshot(mounts[t]));
        if (v.as.uid !== undefined) expect(lstatSync(path.join(target, 'readme.txt')).uid).toBe(v.as.uid);
      }
      const engine = pod.spec!.containers[0]!;
      const binds = TREE_NAMES.slice(1).map((t): [string, string] => [path.join(copyRoot, t), mounts[t]]);
      const r = runEngine(engine, binds, v.as);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(path.join(tmp, 'out', 'started'), 'utf8')).toBe(`engine started in ${mounts.engine}\n`);
    });

    it.runIf(v.needs)(`the engine refuses to start when one copy did not finish (${v.label})`, () => {
      writeTrees();
      makeVolumes();
      const input = inputFor();
      const pod = podOf(input);
      const [first, second] = pod.spec!.initContainers!;
      expect(run(first!.command!, v.as).status).toBe(0);
      expect(run(second!.command!, v.as).status).toBe(0);
      // app-media's copy never ran: its volume is empty.
      const binds = TREE_NAMES.slice(1).map((t): [string, string] => [path.join(copyRoot, t), mounts[t]]);
      const r = runEngine(pod.spec!.containers[0]!, binds, v.as);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`gamelayer: refusing to start: ${mounts['app-media']}/${COPY_SENTINEL} is missing`);
      expect(r.stderr).not.toContain(`${mounts.app}/${COPY_SENTINEL} is missing`);
      expect(existsSync(path.join(tmp, 'out', 'started'))).toBe(false);
    });
  }

  it('a copy that fails leaves no sentinel, even a stale one from an earlier run', () => {
    writeTrees();
    makeVolumes();
    const pod = podOf(inputFor());
    const copyApp = pod.spec!.initContainers!.find((c) => c.name === 'copy-app')!;
    writeFileSync(path.join(copyRoot, 'app', COPY_SENTINEL), '');
    rmSync(mounts.app, { recursive: true });
    const r = run(copyApp.command!);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`gamelayer: app: ${mounts.app} is missing from this image`);
    expect(existsSync(path.join(copyRoot, 'app', COPY_SENTINEL))).toBe(false);
  });

  it('a copy whose volume is not mounted, or not writable by its user, says so in one line and leaves no sentinel', () => {
    writeTrees();
    const pod = podOf(inputFor());
    const copyApp = pod.spec!.initContainers!.find((c) => c.name === 'copy-app')!;
    const target = path.join(copyRoot, 'app');
    const chunked = ['sh', '-c', copyScript('app', mounts.app, target, { chunked: true })];
    const said = `gamelayer: app: ${target} is not a folder this user can write: is the tree's volume mounted there, and writable by uid`;
    // No volume at the mount path (left out of a hand-edited spec): cp used to print one line per entry.
    for (const argv of [copyApp.command!, chunked]) {
      const r = run(argv, { busybox: true });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(said);
      expect(r.stderr).not.toContain('cp:');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // A volume the copy's user cannot write (root-owned, 0755).
    mkdirSync(target, { recursive: true });
    chmodSync(target, 0o755);
    for (const argv of [copyApp.command!, chunked]) {
      const r = run(argv, { uid: UID, busybox: true });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${said} ${UID}?`);
      expect(existsSync(path.join(target, COPY_SENTINEL))).toBe(false);
    }
  });

  it('a hostile tree\'s setuid and setgid bits never reach the volume: ECS\'s root copies and the chunked copy, on busybox (its cp -R keeps them as root)', () => {
    writeTrees();
    makeVolumes();
    const app = mounts.app;
    // What no gamelayer scan records (it keeps 755 and 644): a base image's files under the mount, or a damaged image.
    const hostile: [string, number][] = [['evil', 0o4755], ['sgid', 0o2755], ['gdir', 0o2755], ['gdir/inner', 0o6755], ['.hidden-suid', 0o4700]];
    for (const [rel, mode] of hostile) {
      if (rel === 'gdir') mkdirSync(path.join(app, rel));
      else writeFileSync(path.join(app, rel), '#!/bin/sh\n');
      chmodSync(path.join(app, rel), mode);
    }
    // Links, at the top and below, to a setuid file outside the tree: never followed, so it keeps its bit.
    const victim = path.join(tmp, 'victim');
    writeFileSync(victim, '');
    chmodSync(victim, 0o4755);
    symlinkSync(victim, path.join(app, 'outside'));
    symlinkSync(victim, path.join(app, 'gdir', 'outside'));
    const target = path.join(copyRoot, 'app');
    const ecs = ecsTaskDefinition(inputFor(), { copyRoot }).taskDefinition.containerDefinitions!.find((c) => c.name === 'copy-app')!;
    for (const argv of [ecs.entryPoint!, ['sh', '-c', copyScript('app', app, target, { chunked: true })]]) {
      rmSync(target, { recursive: true, force: true });
      makeVolumes();
      const r = run(argv, { busybox: true });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(existsSync(path.join(target, COPY_SENTINEL))).toBe(true);
      for (const [rel, mode] of hostile) expect([rel, (lstatSync(path.join(target, rel)).mode & 0o7777).toString(8)]).toEqual([rel, (mode & 0o777).toString(8)]);
      expect(readlinkSync(path.join(target, 'outside'))).toBe(victim);
      expect(lstatSync(victim).mode & 0o7777).toBe(0o4755);
      // The volume's own folder stays as the kubelet made it (setgid for fsGroup).
      expect(lstatSync(target).mode & 0o7777).toBe(0o2777);
    }
  });

  it('the ECS containers run the same way: copies, then the guarded engine', () => {
    writeTrees();
    makeVolumes();
    const input = inputFor();
    const td = ecsTaskDefinition(input, { copyRoot }).taskDefinition;
    const copies = td.containerDefinitions!.filter((c) => c.essential === false);
    for (const c of copies) expect(run(c.entryPoint!).status).toBe(0);
    const engine = td.containerDefinitions!.find((c) => c.name === 'engine')!;
    const binds = TREE_NAMES.slice(1).map((t): [string, string] => [path.join(copyRoot, t), mounts[t]]);
    const r = runEngine({ name: 'engine', command: engine.entryPoint, args: engine.command, workingDir: engine.workingDirectory }, binds);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(path.join(tmp, 'out', 'started'))).toBe(true);
  });

  describe('image volumes', () => {
    function imageInput(): DeployInput {
      const input = inputFor();
      // No executables in the non-engine trees, so all three are image volumes.
      for (const t of input.trees) if (t.tree !== 'engine') t.executables = 0;
      return input;
    }

    it('the engine starts when every mounted tree carries the tree sentinel', () => {
      const pod = podOf(imageInput(), 'image');
      expect(pod.spec!.initContainers).toBeUndefined();
      for (const t of TREE_NAMES) {
        mkdirSync(mounts[t], { recursive: true });
        writeFileSync(path.join(mounts[t], TREE_SENTINEL), '');
      }
      const r = runEngine(pod.spec!.containers[0]!, []);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(existsSync(path.join(tmp, 'out', 'started'))).toBe(true);
    });

    it('the engine refuses an empty volume and one mounted without its subPath (containerd 2.1)', () => {
      const pod = podOf(imageInput(), 'image');
      for (const t of TREE_NAMES) mkdirSync(mounts[t], { recursive: true });
      writeFileSync(path.join(mounts['engine-media'], TREE_SENTINEL), '');
      // app: subPath ignored, so the image root is mounted and the sentinel sits deeper.
      const deeper = path.join(mounts.app, mounts.app.slice(1));
      mkdirSync(deeper, { recursive: true });
      writeFileSync(path.join(deeper, TREE_SENTINEL), '');
      // app-media: empty volume.
      const r = runEngine(pod.spec!.containers[0]!, []);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`refusing to start: ${mounts.app}/${TREE_SENTINEL} is missing`);
      expect(r.stderr).toContain(`refusing to start: ${mounts['app-media']}/${TREE_SENTINEL} is missing`);
      expect(r.stderr).not.toContain(`${mounts['engine-media']}/${TREE_SENTINEL} is missing`);
      expect(existsSync(path.join(tmp, 'out', 'started'))).toBe(false);
    });
  });
});
