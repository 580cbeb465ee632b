// The package as a user gets it: `npm pack` here, `npm install <tarball>` into an empty folder, the installed
// `gamelayer` command on a copy of the sample game, and the library imported from plain `node` (no tsx, no vitest
// transform) building and pushing the sample game to a real registry with the README's example script. One pack
// and one install serve every assertion.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { assemblerFor } from '../src/oci/assembler.js';
import { storageProblems, storedTags, startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';

const run = promisify(execFile);
const ROOT = path.resolve('.');
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

let work: string;
let app: string;
let installed: string;
let reg: TestRegistry;

/** The user's environment: no loader of ours (NODE_OPTIONS), no test-runner variables. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|VITEST|TSX|npm_)/i.test(k)) env[k] = v;
  return { ...env, CI: '1' };
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

/**
 * Where the test works: a tmpfs (/dev/shm) when the host has one with room, else the temp folder. The install
 * writes about 190 MB in 15k files, which took 23 s of a 33 s install on this project's CI disk (ext4) and 5 s on a
 * tmpfs; where it lands changes nothing the tests check.
 */
async function workRoot(): Promise<string> {
  const TMPFS_MAGIC = 0x01021994;
  const s = await statfs('/dev/shm').catch(() => undefined);
  return s && s.type === TMPFS_MAGIC && s.bavail * s.bsize > 2 * 1024 ** 3 ? '/dev/shm' : os.tmpdir();
}

/** `tsc` on one file of the user's project (types from its node_modules unless `typeRoots`): 'ok' or tsc's output. */
async function compiles(file: string, options: { skipLibCheck: boolean; typeRoots?: string[] }): Promise<string> {
  const config = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], ...options }, files: [file] };
  const tsconfig = path.join(app, `tsconfig.${path.basename(file, '.ts')}.json`);
  await writeFile(tsconfig, JSON.stringify(config));
  return run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: app, env: userEnv() }).then(
    () => 'ok',
    (e: { stdout: string }) => e.stdout,
  );
}

beforeAll(async () => {
  const registryStarted = startRegistry().then((r) => (reg = r));
  work = await mkdtemp(path.join(await workRoot(), 'gl-package-'));
  // npm pack would run the prepare script (scripts/build-dist.mjs), which compiles src/ into dist/ again: the test
  // setup already compiled it from the current sources, so pack what is there once build-dist says it is current.
  await run(process.execPath, [path.join(ROOT, 'scripts/build-dist.mjs'), '--if-changed'], { cwd: ROOT, env: userEnv() });
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: userEnv(), maxBuffer: 64 << 20 });
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
  const tarball = path.join(work, info[0]!.filename);
  app = path.join(work, 'app');
  await mkdir(app);
  // The user's project denies (npm's allowScripts field) the install scripts of ssh2, under dockerode, which compile
  // two optional native bindings with node-gyp (8 s of a 19 s install), and of protobufjs: nothing checked here
  // uses them. gamelayer has no install script of its own.
  const allowScripts = { ssh2: false, 'cpu-features': false, protobufjs: false };
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'a-studio-pipeline', private: true, type: 'module', allowScripts }));
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: userEnv(), maxBuffer: 64 << 20 });
  installed = path.join(app, 'node_modules', pkg.name);
  await registryStarted;
}, 600_000);

afterAll(async () => {
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds compiled JavaScript with declarations, the license and changelog, and no TypeScript sources', async () => {
    const files = (await allFiles(installed)).map((f) => path.relative(installed, f));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/gamelayer.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/oci/gzip-worker.js', 'dist/sbom/cyclonedx-validators.cjs', 'native/bin/gamelayer-assemble-linux-amd64', 'native/bin/gamelayer-assemble-linux-arm64']));
    // CommonJS only where build-dist writes it: the SBOM validators it compiles (the tsx worker boots stay out).
    expect(files.filter((f) => /(?<!\.d)\.ts$/.test(f) || (f.endsWith('.cjs') && f !== 'dist/sbom/cyclonedx-validators.cjs') || f.startsWith('src/'))).toEqual([]);
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; license: string };
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.license).toBe('Apache-2.0');
    expect(await readFile(path.join(installed, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0');
    // Nothing that runs TypeScript is installed with it: every command and import below runs the compiled code.
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
    // The precompiled SBOM validators load where installed (their format packages resolve from there) and judge.
    const validators = path.join(installed, 'dist', 'sbom', 'cyclonedx-validators.cjs');
    const judged = await run(process.execPath, ['-e', `const v = require(${JSON.stringify(validators)}); console.log(v.bom({ bomFormat: 'CycloneDX', specVersion: '1.6' }), v.bom({ bomFormat: 'CycloneDX' }))`], { cwd: app, env: userEnv() });
    expect(judged.stdout).toBe('true false\n');
  });

  it('npx gamelayer --version prints the version of package.json', async () => {
    const { stdout } = await run('npx', ['--no', '--', 'gamelayer', '--version'], { cwd: app, env: userEnv() });
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it('npx gamelayer build builds a copy of the sample game, the same images as the library built from source', async () => {
    const game = path.join(work, 'game-cli');
    copySample(game);
    const { stdout } = await run('npx', ['--no', '--', 'gamelayer', 'build', '-c', path.join(game, 'gamelayer.yaml'), '--json'], { cwd: app, env: userEnv(), maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as { store: string; tags: string[]; images: { name: string; digest: string }[] };
    expect(out.store).toBe(path.join(game, '.gamelayer', 'oci'));
    expect(existsSync(path.join(out.store, 'index.json'))).toBe(true);

    // The same sample built by the sources under test gives byte-identical images (a deterministic build).
    const reference = path.join(work, 'game-src');
    copySample(reference);
    const fromSource = await build({ config: await loadConfig(path.join(reference, 'gamelayer.yaml')) });
    const digests = (images: { name: string; digest: string }[]) => Object.fromEntries(images.map((i) => [i.name, i.digest]));
    expect(digests(out.images)).toEqual(digests(fromSource.record.images));
    expect(Object.keys(digests(out.images)).sort()).toEqual(['app', 'app-media', 'engine', 'engine-media', 'server']);
  });

  it('a missing config points at the README the package ships, not at fixtures it does not ship', async () => {
    const missing = path.join(work, 'nowhere', 'gamelayer.yaml');
    const err = await run('npx', ['--no', '--', 'gamelayer', 'build', '-c', missing], { cwd: app, env: userEnv() }).then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    const readme = path.join(installed, 'README.md');
    expect(err?.code).toBe(1);
    expect(err?.stderr).toBe(`error[config.missing]: ${missing}: no such file\nhint: run gamelayer init in the build folder to write one, create a gamelayer.yaml (see "The game config: gamelayer.yaml" in ${readme}), or pass --config FILE\n`);
    expect(await readFile(readme, 'utf8')).toContain('## The game config: `gamelayer.yaml`');
  });

  it("plain node runs the README's library example: it builds and pushes the sample game to a real registry", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const example = /## Library API[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'gamelayer'");
    await writeFile(path.join(app, 'push-game.mjs'), example!);
    const game = path.join(work, 'game-api');
    copySample(game);
    const repository = `${reg.host}/studio/sample`;
    const { stdout } = await run(process.execPath, ['push-game.mjs', path.join(game, 'gamelayer.yaml'), repository], { cwd: app, env: userEnv(), maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as { tags: string[]; images: { name: string; digest: string }[]; layers: { built: number; reused: number }; bytesSent: number };
    expect(out.layers.built).toBeGreaterThan(0);
    expect(out.bytesSent).toBeGreaterThan(0);
    // What the registry holds: each image under its tag, with the digest the build recorded, and the record.
    const tag = out.tags[0]!;
    const tags = await storedTags(reg.storageDir, 'studio/sample');
    for (const image of out.images) expect(tags[image.name === 'server' ? tag : `${tag}-${image.name}`]).toBe(image.digest);
    expect(Object.keys(tags)).toContain(`${tag}.gamelayer-record`);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('its declarations type-check a TypeScript user of the library, and catch a wrong use', async () => {
    await writeFile(
      path.join(app, 'use.ts'),
      [
        "import { build, loadConfig, OciStore, pushBuild, silentReporter, type BuildResult, type PushBuildResult } from 'gamelayer';",
        'export async function go(file: string, repository: string): Promise<[BuildResult, PushBuildResult, OciStore]> {',
        '  const built = await build({ config: await loadConfig(file), reporter: silentReporter });',
        '  const pushed = await pushBuild({ store: built.store, record: built.record, repository });',
        '  return [built, pushed, await OciStore.open(built.store)];',
        '}',
        '',
      ].join('\n'),
    );
    // Declarations, not `any`: a wrong use is an error.
    await writeFile(path.join(app, 'misuse.ts'), "import { pushBuild } from 'gamelayer';\nexport const p = pushBuild({ store: 1, repository: 'r' });\n");
    const check = (file: string) => compiles(file, { skipLibCheck: true, typeRoots: [path.join(ROOT, 'node_modules', '@types')] });
    expect(await check('use.ts')).toBe('ok');
    const misuse = await check('misuse.ts');
    expect(misuse).toMatch(/^misuse\.ts\(2,\d+\): error TS\d+: /m);
    expect(misuse).toContain("Type 'number' is not assignable to type 'string'");
  });

  it('its declarations compile with what the install brings alone, library checks on (skipLibCheck false)', async () => {
    // A user's strict project does not skip the declarations' own check, nor has gamelayer's dev types: the
    // declarations import dockerode's types (loadBuild, runLocal take a Docker), which only a dev dependency gave.
    await writeFile(path.join(app, 'strict.ts'), "import { build, loadBuild, runLocal, type BuildResult } from 'gamelayer';\nexport const use: [typeof build, typeof loadBuild, typeof runLocal, BuildResult?] = [build, loadBuild, runLocal];\n");
    const out = await compiles('strict.ts', { skipLibCheck: false });
    expect(out).toBe('ok');
  });

  it('names the types its functions take and return, so a caller can write them', async () => {
    // Options and results a pipeline script passes around: each was in the declarations (inferred), none importable.
    const names = ['DeployConfig', 'Filters', 'FileCounts', 'FindPreviousOptions', 'PreviousInfo', 'K8sEmission', 'Workload', 'K8sOptions', 'DeployRecord', 'FillResult', 'FillReplacement', 'EcsEmission', 'EcsOptions', 'EcsFromDeploy', 'LayoutReader', 'BlobStripe', 'DaemonImage', 'ImageConfig', 'TreeDecision', 'LayerSettings', 'ChunkStats', 'ReferrerArtifact', 'SignOptions', 'CheckedSignature', 'VerifyManifestOptions', 'VerifiedItem', 'VerifyImageOptions', 'SignImageOptions', 'RemoteKind', 'PrunedBuild', 'FetchBuildRecordOptions', 'FetchedBlobs', 'FetchMissingOptions'];
    const lines = [`import type { ${names.join(', ')} } from 'gamelayer';`, ...names.map((n) => `export type Uses${n} = ${n} | undefined;`), ''];
    // And they are the types the functions use: a K8sOptions fits k8sWorkload, a VerifiedItem is what verifyImage lists.
    lines.push("import { k8sWorkload, verifyImage } from 'gamelayer';", 'export type SameOptions = Parameters<typeof k8sWorkload>[1] extends Partial<K8sOptions> | undefined ? true : never;', 'export const same: SameOptions = true;', 'export type Items = Awaited<ReturnType<typeof verifyImage>>["items"][number] extends VerifiedItem ? true : never;', 'export const items: Items = true;', '');
    await writeFile(path.join(app, 'names.ts'), lines.join('\n'));
    const out = await compiles('names.ts', { skipLibCheck: true });
    expect(out).toBe('ok');
  });

  it('builds a chunked tree with the native assembler it ships, and refuses a damaged one naming the file', async () => {
    const game = path.join(work, 'game-chunked');
    copySample(game);
    const config = path.join(game, 'gamelayer.yaml');
    const doc = parseDocument(await readFile(config, 'utf8'));
    doc.setIn(['trees', 'app-media', 'chunks'], { minFileSize: '256KiB', avgChunkSize: '64KiB' });
    await writeFile(config, doc.toString());
    await writeFile(path.join(game, 'app-media', 'big.pak'), randomBytes(1 << 20));
    const gamelayer = (args: string[]) => run('npx', ['--no', '--', 'gamelayer', ...args], { cwd: app, env: userEnv(), maxBuffer: 64 << 20 });
    await gamelayer(['build', '-c', config]);
    // Run last: it damages the installed copy of the helper.
    const helper = path.join(installed, 'native', 'bin', 'gamelayer-assemble-linux-amd64');
    const pinned = assemblerFor('linux/amd64')!;
    await appendFile(helper, 'x');
    await rm(path.join(game, '.gamelayer'), { recursive: true, force: true });
    const err = await gamelayer(['build', '-c', config]).then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(new RegExp(`^error\\[build\\.assembler-damaged\\]: the native assembler ${helper.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} that chunked tree images carry is damaged: ${pinned.size + 1} bytes with sha256 [0-9a-f]{64}, expected ${pinned.size} bytes and ${pinned.sha256}\nhint: reinstall gamelayer`, 'm'));
  });
});
