// The SBOM is the same bytes whatever the build host's locale: `build --push --sbom` as a child under LANG/LC_ALL
// values whose collations order these file names differently (sv_SE puts `ä` after `z`, da_DK `aa` after `z`,
// tr_TR `I` before `i`) attaches the same document, with its files in byte order of UTF-8. Its signed digest, and
// whether a no-op build finds it attached, must not depend on which CodeBuild host ran the build.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareBytewise } from '../src/scan/manifest.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

const NAMES = ['a.pak', 'B.pak', 'ä.pak', 'å.pak', 'aa.pak', 'z.pak', 'y.pak', 'ü.pak', 'i.txt', 'I.txt', 'İ.txt'];

/** Locale settings as a host has them: each replaces LANG, LC_ALL, LC_COLLATE and LC_MESSAGES of this process. */
const LOCALES: Record<string, string | undefined>[] = [
  { LANG: 'C' },
  { LANG: 'sv_SE.UTF-8' },
  { LANG: 'tr_TR.UTF-8' },
  { LANG: 'en_US.UTF-8', LC_ALL: 'da_DK.UTF-8' },
  { LANG: 'de_DE.UTF-8', LC_MESSAGES: 'lt_LT.UTF-8' }, // ICU takes LC_MESSAGES before LANG (lt: `y` as `i`)
].map((l): Record<string, string | undefined> => ({ ...{ LC_ALL: undefined, LC_COLLATE: undefined, LC_MESSAGES: undefined }, ...l }));

describe('the SBOM under different locales', () => {
  it('build --push --sbom attaches the same bytes under LANG=C, sv_SE, tr_TR, LC_ALL=da_DK, LC_MESSAGES=lt_LT, files in byte order', async () => {
    // These settings do change the order of the host's collation (Node with full ICU): else the test shows nothing.
    const orders = LOCALES.map((env) =>
      execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).sort((a, b) => a.localeCompare(b))))', JSON.stringify(NAMES)], {
        env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)),
      }).toString(),
    );
    expect(new Set(orders).size).toBeGreaterThanOrEqual(3);

    const dir = await tempDir();
    copySample(dir);
    for (const n of NAMES) await writeFile(path.join(dir, 'app', n), `${n}\n`);
    const digests: string[] = [];
    for (const [i, env] of LOCALES.entries()) {
      // A repository each: nothing is attached there yet, so each build makes its SBOM.
      const repo = `${registry.host}/studio/locale-${i}`;
      const r = await runCli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], { cwd: dir, env });
      if (r.code !== 0) throw new Error(`build under ${JSON.stringify(env)} failed (${r.code}): ${r.stderr}`);
      const sbom = JSON.parse(r.stdout).supplyChain.sbom;
      expect(sbom.upToDate).toBe(false);
      digests.push(sbom.digest);
    }
    expect(new Set(digests).size).toBe(1);

    const fetched = await runCli(['sbom', `${registry.host}/studio/locale-1:v1`], { cwd: dir, env: LOCALES[1] });
    expect(fetched.code).toBe(0);
    const bom = JSON.parse(fetched.stdout) as { components: { 'bom-ref': string; components?: { name: string }[] }[] };
    const app = bom.components.find((c) => c['bom-ref'] === 'tree:app')!;
    const added = app.components!.map((f) => f.name).filter((n) => NAMES.includes(n));
    expect(added).toEqual([...NAMES].sort(compareBytewise));
    expect(added).toEqual(['B.pak', 'I.txt', 'a.pak', 'aa.pak', 'i.txt', 'y.pak', 'z.pak', 'ä.pak', 'å.pak', 'ü.pak', 'İ.txt']);
  }, 300_000);
});
