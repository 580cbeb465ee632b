// Daily signed builds on an ECR repository with immutable tags. An unchanged tree image (the engine) keeps its digest
// from day to day and is signed again under each day's tag, one more signature in its `sha256-<hex>.sig` manifest:
// the tag moves. `--create-repo --immutable-tags` exempted only the line tags, so day 1's `build --push --sign` failed
// after its images, record and line tag were pushed (`registry.http … TAG_INVALID`). The repository it creates now
// exempts the digest-named tags too (`sha256-*`: signatures, the referrers tag), and on a repository made immutable
// elsewhere the signing stops before sending that signature, naming the command that exempts them.
import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useEcrGame } from './support/ecr-game.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const t = useEcrGame('gl-ecr-immutable-signed-', { game: false });
let keys: string;
beforeAll(async () => {
  keys = await tempDir('gl-signed-keys-');
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', keys]);
});

/** Day `n` on a fresh host: the sample, with `n` lines added to one app file. */
async function day(repo: string, n: number, flags: string[] = [], sign = true) {
  const dir = await tempDir('gl-signed-day-');
  copySample(dir);
  for (let i = 0; i < n; i++) await appendFile(path.join(dir, 'app/config/server.cfg'), `\nday_${i + 1}=1\n`);
  return t.buildPush(repo, `d${n}`, ['--line', 'main', ...(sign ? ['--sign', path.join(keys, 'key.pem')] : []), ...flags], dir);
}

describe('signed daily builds on an ECR repository with immutable tags', () => {
  it('--create-repo --immutable-tags: day after day, each build signed; the signature tags are exempt', async () => {
    const d0 = await day('studio/signed', 0, ['--create-repo', '--immutable-tags']);
    expect(d0.code, d0.stderr).toBe(0);
    expect(t.ecr.repositories.get('studio/signed')).toMatchObject({ mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*', 'sha256-*'] });
    for (const n of [1, 2]) {
      const r = await day('studio/signed', n);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^signatures: [1-9]\d* new/m);
      const verify = await runCli(['verify', `${t.ecr.host}/studio/signed:d${n}`, '--key', path.join(keys, 'pub.pem'), '--ecr', '--endpoint', t.ecr.endpoint, '--region', 'eu-west-1'], { cwd: keys, env: t.env() });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    }
  }, 240_000);

  it('a repository made immutable but the line tags (as before): a signed build stops before anything is pushed, naming the command that exempts the signature tags', async () => {
    t.ecr.repositories.set('studio/older', { mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*'], scanOnPush: false, createdAt: Date.now() });
    // Day 0 unsigned: pushed as ever.
    const d0 = await day('studio/older', 0, [], false);
    expect(d0.code, d0.stderr).toBe(0);
    const seen = t.ecr.frontSeen.length;
    // Day 1 signed: its engine is unchanged and would take a second signature. It stopped only after its images,
    // record and line tag were pushed; now no upload and no manifest goes up.
    const d1 = await day('studio/older', 1);
    expect(d1.code).toBe(1);
    expect(d1.stderr).toMatch(/error\[sign\.immutable-tag\]: .*studio\/older:sha256-<hex>\.sig cannot take the signatures of a signed build: .*nothing was pushed/);
    expect(d1.stderr).toContain("--image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='gamelayer-line.*' filterType=WILDCARD,filter='sha256-*'");
    expect(d1.stderr).not.toContain('TAG_INVALID');
    const writes = t.ecr.frontSeen.slice(seen).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    expect(writes).toEqual([]);
  }, 240_000);

  it('a fully immutable repository: the first signed build stops before anything is pushed', async () => {
    t.ecr.repositories.set('studio/frozen', { mutability: 'IMMUTABLE', scanOnPush: false, createdAt: Date.now() });
    const seen = t.ecr.frontSeen.length;
    const d0 = await day('studio/frozen', 0);
    expect(d0.code).toBe(1);
    expect(d0.stderr).toContain('error[sign.immutable-tag]');
    expect(t.ecr.frontSeen.slice(seen).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  }, 240_000);

  it('index --sign on such a repository stops before any index is put', async () => {
    t.ecr.repositories.set('studio/frozen-index', { mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*'], scanOnPush: false, createdAt: Date.now() });
    const dir = await tempDir('gl-signed-index-');
    copySample(dir);
    await appendFile(path.join(dir, 'gamelayer.yaml'), '\nplatforms: [linux/amd64, linux/arm64]\n');
    const seen = t.ecr.frontSeen.length;
    const r = await runCli(['index', `${t.ecr.host}/studio/frozen-index`, '--tag', 'v1', '--sign', path.join(keys, 'key.pem'), '--ecr', '--endpoint', t.ecr.endpoint, '--region', 'eu-west-1'], { cwd: dir, env: t.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[sign.immutable-tag]');
    // Refused from the repository's settings: not even the platform builds' records were read.
    expect(t.ecr.frontSeen.slice(seen)).toEqual([]);
  }, 120_000);
});
