// CLI start-up (issue 17): a command loads its own modules only, so a short command (a no-op build, --version) does
// not pay for every other command's dependencies. Which modules a real run of the compiled CLI loads, recorded by
// a module hook in the child process.
import { execFile, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const MAIN = path.resolve('dist/cli/main.js');
/** The installed command, which runs the CLI bundle (dist/cli-bundle/). */
const BIN = path.resolve('bin/gamelayer.js');

/** The files (URLs) an ESM or CommonJS load reached while `gamelayer ARGS` ran (`entry`: the file node runs). */
async function loadedBy(args: string[], entry = MAIN): Promise<string[]> {
  const dir = await tempDir();
  const out = path.join(dir, 'loaded.txt');
  await writeFile(
    path.join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_OUT, url + '\\n');\n  return next(url, context);\n}\n`,
  );
  await writeFile(
    path.join(dir, 'register.mjs'),
    `import { register, Module } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nregister('./hooks.mjs', import.meta.url);\n` +
      `const load = Module._load;\nModule._load = function (request, parent, isMain) {\n  appendFileSync(process.env.LOADED_OUT, 'cjs:' + Module._resolveFilename(request, parent, isMain) + '\\n');\n  return load.apply(this, arguments);\n};\n`,
  );
  await writeFile(out, '');
  await run(process.execPath, ['--import', path.join(dir, 'register.mjs'), entry, ...args], { env: { ...process.env, LOADED_OUT: out } });
  return [...new Set((await readFile(out, 'utf8')).split('\n').filter(Boolean))];
}

const packagesOf = (files: string[]) => [...new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []))].sort();
const ours = (files: string[]) => files.flatMap((f) => /\/dist\/(.+\.js)$/.exec(f)?.[1] ?? []);

describe('CLI start-up', () => {
  it('--version loads commander and the CLI frame, nothing of any command', async () => {
    const loaded = await loadedBy(['--version']);
    expect(packagesOf(loaded)).toEqual(['commander']);
    expect(ours(loaded).filter((f) => f.startsWith('cli/commands/') && f !== 'cli/commands/index.js')).toEqual([]);
  });

  it('build --help loads the build command alone: no other command, no AWS SDK, no progress bars', async () => {
    const loaded = await loadedBy(['build', '--help']);
    expect(ours(loaded).filter((f) => f.startsWith('cli/commands/') && f !== 'cli/commands/index.js')).toEqual(['cli/commands/build.js']);
    const packages = packagesOf(loaded);
    for (const heavy of ['@aws-sdk/client-ecr', '@aws-sdk/client-codebuild', '@aws-sdk/client-ecs', 'cli-progress', 'kubernetes-models', '@cyclonedx/cyclonedx-library', 'ajv', 'dockerode']) {
      expect(packages).not.toContain(heavy);
    }
  });

  it('--help still lists every command (all of them are loaded for it)', async () => {
    const { stdout } = await run(process.execPath, [MAIN, '--help']);
    for (const c of ['init', 'scan', 'diff', 'build', 'push', 'k8s', 'ecs', 'dockerfile', 'load', 'run-local', 'codebuild', 'ls', 'inspect', 'gc', 'prune', 'index', 'sbom', 'sign', 'verify', 'completion']) {
      expect(stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  });

  it('the installed command runs the bundle: --version reads a few files of dist/cli-bundle/ and nothing from node_modules or the compiled library', async () => {
    const loaded = (await loadedBy(['--version'], BIN)).filter((f) => !f.startsWith('node:') && !/^cjs:[\w:/]+$/.test(f));
    expect(loaded.filter((f) => !f.endsWith('/bin/gamelayer.js') && !/\/dist\/cli-bundle\/[\w-]+\.js$/.test(f))).toEqual([]);
    expect(loaded.some((f) => f.endsWith('/dist/cli-bundle/main.js'))).toBe(true);
  });

  it('a push of one build to two registries that are not ECR leaves the AWS SDK out (it serves ECR replication alone)', async () => {
    const game = await tempDir();
    copySample(game);
    await run(process.execPath, [BIN, 'build', '--tag', 'v1'], { cwd: game });
    const a = await startRegistry();
    const b = await startRegistry();
    try {
      const loaded = await loadedBy(['-c', path.join(game, 'gamelayer.yaml'), 'push', `${a.host}/studio/x:v1`, `${b.host}/studio/x:v1`], BIN);
      const bundle = path.resolve('dist/cli-bundle');
      const files = loaded.filter((f) => f.includes('/dist/cli-bundle/'));
      const text = (await Promise.all(files.map((f) => readFile(path.join(bundle, path.basename(f)), 'utf8')))).join('\n');
      expect(text).toContain('pushBuildToMany');
      expect(text).not.toContain('class extends Client');
      expect(loaded.filter((f) => f.includes('/node_modules/@aws-sdk/'))).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a no-op build --push to a plain-http registry loads neither node:https nor node:tls (they load with the first https exchange), nor node:v8', async () => {
    const game = await tempDir();
    copySample(game);
    const registry = await startRegistry();
    try {
      const build = ['-c', path.join(game, 'gamelayer.yaml'), 'build', '--tag', 'v1', '--push', `${registry.host}/studio/x`];
      await run(process.execPath, [BIN, ...build]);
      const loaded = await loadedBy(build, BIN);
      // The registry client did load (its http exchanges): the check below is not vacuous.
      expect(loaded).toContain('cjs:node:http');
      expect(loaded.filter((f) => /^(cjs:)?(node:)?(https|tls|v8)$/.test(f))).toEqual([]);
    } finally {
      await registry.stop();
    }
  });

  it('verify of an image with an SBOM loads the precompiled SBOM validators: no CycloneDX library, no ajv compiler', async () => {
    const game = await tempDir();
    copySample(game);
    execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', game]);
    const registry = await startRegistry();
    try {
      const ref = `${registry.host}/studio/x`;
      await run(process.execPath, [BIN, 'build', '--tag', 'v1', '--push', ref, '--sbom', '--sign', path.join(game, 'key.pem')], { cwd: game });
      const verify = ['verify', `${ref}:v1`, '--key', path.join(game, 'pub.pem'), '--require-sbom'];
      // The SBOM was checked (so the check below is not vacuous).
      expect((await run(process.execPath, [BIN, ...verify], { cwd: game })).stdout).toMatch(/^verified sbom sha256:/m);
      const loaded = await loadedBy(verify, BIN);
      expect(loaded).toContain(`cjs:${path.resolve('dist/sbom/cyclonedx-validators.cjs')}`);
      expect(packagesOf(loaded)).not.toContain('@cyclonedx/cyclonedx-library');
      expect(loaded.filter((f) => /node_modules\/ajv\/dist\/(compile|core|ajv)\b/.test(f))).toEqual([]);
    } finally {
      await registry.stop();
    }
  });

  it('a scan loads no glob library but picomatch, with or without include/exclude patterns, in the bundle too', async () => {
    const game = await tempDir();
    copySample(game);
    const config = path.join(game, 'gamelayer.yaml');
    const bundle = path.resolve('dist/cli-bundle');
    const bundleText = async (loaded: string[]) =>
      (await Promise.all(loaded.filter((f) => f.includes('/dist/cli-bundle/')).map((f) => readFile(path.join(bundle, path.basename(f)), 'utf8')))).join('\n');
    // fast-glob's own message (it was loaded for any pattern; the walk now matches globs itself, util/glob-match.ts).
    const FAST_GLOB = 'Patterns must be a string';
    const check = async () => {
      const packages = packagesOf(await loadedBy(['-c', config, 'scan']));
      expect(packages).not.toContain('fast-glob');
      expect(packages).not.toContain('micromatch');
      expect(await bundleText(await loadedBy(['-c', config, 'scan'], BIN))).not.toContain(FAST_GLOB);
    };
    await check();
    await writeFile(config, (await readFile(config, 'utf8')).replace('    source: ./app-media\n', '    source: ./app-media\n    exclude: ["**/*.never"]\n'));
    await check();
  });

  it('a build compiles no zod parser at run time (jitless): no `new Function` in the bundle or in the compiled CLI', async () => {
    const game = await tempDir();
    copySample(game);
    const dir = await tempDir();
    // Counts every construction and call of the global Function from the first line of the process on.
    await writeFile(
      path.join(dir, 'count.cjs'),
      `const { appendFileSync } = require('node:fs');\nconst F = globalThis.Function;\n` +
        `globalThis.Function = new Proxy(F, { construct(t, a) { appendFileSync(process.env.FN_OUT, 'new Function\\n'); return Reflect.construct(t, a); } });\n`,
    );
    for (const entry of [BIN, MAIN]) {
      const out = path.join(dir, `fn-${path.basename(path.dirname(entry))}.txt`);
      await writeFile(out, '');
      // Twice: a cold build, then a no-op (each parses the config, the no-op the last record too).
      for (const tag of ['v1', 'v1']) {
        await run(process.execPath, ['-r', path.join(dir, 'count.cjs'), entry, 'build', '--tag', tag], { cwd: game, env: { ...process.env, FN_OUT: out } });
      }
      expect(await readFile(out, 'utf8')).toBe('');
    }
  });

  it('a no-op build leaves the layer writer out (tar, the gzip pool, zstd): it loads with the first layer to build', async () => {
    const game = await tempDir();
    copySample(game);
    const bundle = path.resolve('dist/cli-bundle');
    const bundleText = async (loaded: string[]) =>
      (await Promise.all(loaded.filter((f) => f.includes('/dist/cli-bundle/')).map((f) => readFile(path.join(bundle, path.basename(f)), 'utf8')))).join('\n');
    // The tar writer's own message: in the bundle only where the layer writer is.
    const TAR_WRITER = 'it must be an absolute path inside the image';
    const build = ['-c', path.join(game, 'gamelayer.yaml'), 'build', '--tag', 'v1'];
    expect(await bundleText(await loadedBy(build, BIN))).toContain(TAR_WRITER);
    expect(await bundleText(await loadedBy(build, BIN))).not.toContain(TAR_WRITER);
  });

  it('a no-op build leaves the tar reader out (tar-stream, streamx): it loads when an archive tree is read', async () => {
    const game = await tempDir();
    copySample(game); // its engine tree is a tar.gz
    const bundle = path.resolve('dist/cli-bundle');
    const bundleText = async (loaded: string[]) =>
      (await Promise.all(loaded.filter((f) => f.includes('/dist/cli-bundle/')).map((f) => readFile(path.join(bundle, path.basename(f)), 'utf8')))).join('\n');
    // tar-stream's extractor's own message: in the bundle only where tar-stream is.
    const TAR_READER = 'Unexpected end of data';
    const build = ['-c', path.join(game, 'gamelayer.yaml'), 'build', '--tag', 'v1'];
    const cold = await loadedBy(build, BIN);
    expect(await bundleText(cold)).toContain(TAR_READER);
    // The library (tsc's dist/) as well: the package is imported on first use there too.
    expect(packagesOf(await loadedBy([...build.slice(0, 2), 'scan']))).not.toContain('tar-stream');
    const noop = await loadedBy(build, BIN);
    expect(await bundleText(noop)).not.toContain(TAR_READER);
    expect(packagesOf(noop)).toEqual([]);
  });

  it('a no-op build --push reads its modules from a few files of the bundle (packs; it read 80 files before, about 0.3 ms each)', async () => {
    const game = await tempDir();
    copySample(game);
    const dir = await tempDir();
    const out = path.join(dir, 'read.txt');
    // Every JavaScript file read (Node's loader and the launcher's both read through fs.readFileSync; a module run
    // from a pack is not read).
    await writeFile(
      path.join(dir, 'count.cjs'),
      `const fs = require('node:fs');\nconst { appendFileSync } = fs;\nconst read = fs.readFileSync;\n` +
        `fs.readFileSync = function (file) {\n  if (typeof file === 'string' && file.endsWith('.js')) appendFileSync(process.env.READ_OUT, file + '\\n');\n  return read.apply(this, arguments);\n};\n`,
    );
    const registry = await startRegistry();
    try {
      const build = ['-c', path.join(game, 'gamelayer.yaml'), 'build', '--tag', 'v1', '--push', `${registry.host}/studio/x`];
      await run(process.execPath, [BIN, ...build]);
      await writeFile(out, '');
      const { stdout } = await run(process.execPath, ['-r', path.join(dir, 'count.cjs'), BIN, ...build], { env: { ...process.env, READ_OUT: out } });
      expect(stdout).toMatch(/layers: 0 built/);
      expect(stdout).toMatch(/0 B sent/);
      const read = (await readFile(out, 'utf8')).split('\n').filter((f) => f.includes('/dist/cli-bundle/'));
      expect(read.length).toBeGreaterThan(3);
      expect(read.length).toBeLessThanOrEqual(12);
    } finally {
      await registry.stop();
    }
  });

  it('the bundle loads a command as a chunk of its own: build --help leaves out the AWS SDK and every other command', async () => {
    const loaded = await loadedBy(['build', '--help'], BIN);
    expect(loaded.filter((f) => f.includes('/node_modules/'))).toEqual([]);
    const bundle = path.resolve('dist/cli-bundle');
    const text = (await Promise.all(loaded.filter((f) => f.includes('/dist/cli-bundle/')).map((f) => readFile(path.join(bundle, path.basename(f)), 'utf8')))).join('\n');
    // What only the left-out parts hold: the AWS SDK's ECR client, other commands' descriptions.
    expect(text).toContain('build the server image and one image per tree');
    for (const absent of ['class extends Client', 'push a build (its five images, then its build record)', 'write a Kubernetes / Agones spec']) expect(text).not.toContain(absent);
  });
});
