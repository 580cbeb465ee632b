// Ctrl-C once `build --push --sbom --sign` had pushed, while it attached the SBOM or signed: it ended without a word,
// the build in the registry unsigned. Now one line says where the build is, what is not attached, and the command that
// finishes it; exit 130 (143 for a CI's SIGTERM) as for the other phases (build-push-interrupt.test.ts). The stop lands
// at a known request through a fault proxy in front of a real registry: the SBOM phase's first referrers listing, or
// the signing's first read of a signature tag, held there while the CLI gets its SIGINT (or SIGTERM).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { SIGN_CONCURRENCY } from '../src/supply/sign-images.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(registry.host);
});
afterAll(async () => proxy?.stop());

const IMAGE_TAGS = ['v1', 'v1-app', 'v1-app-media', 'v1-engine', 'v1-engine-media', 'v1.gamelayer-record'];
const signatureTags = (tags: Record<string, string>) => Object.keys(tags).filter((t) => /^sha256-[0-9a-f]{64}\.sig$/.test(t));
/** The referrers fallback tags (this registry has no referrers API): the SBOM's, once attached. */
const referrerTags = (tags: Record<string, string>) => Object.keys(tags).filter((t) => /^sha256-[0-9a-f]{64}$/.test(t));

interface StopAt {
  /** Also pushed to `studio/<also>`. */
  also?: string;
  /** The build's flags before --push (default --tag v1). */
  flags?: string[];
  signal?: 'SIGINT' | 'SIGTERM';
  /** How many requests `at` holds (default 1), and how many are held when the signal goes (default 1). */
  hold?: number;
  stopAtHeld?: number;
  /** Run first in the copy (the key made, the CLI not started yet); what it returns is `at`. */
  before?: (dir: string, repo: string) => Promise<RegExp>;
}

/**
 * `build <flags> --push --sbom --sign` of a fresh copy of the sample to `studio/<name>` (and to `studio/<also>`), sent
 * `signal` (SIGINT) as `at` is first asked for (or once `stopAtHeld` such requests are held).
 */
async function stoppedAt(name: string, at: RegExp | undefined, o: StopAt = {}): Promise<{ dir: string; repo: string; line: string }> {
  const { flags = ['--tag', 'v1'], signal = 'SIGINT' } = o;
  const dir = await tempDir(`gl-supply-interrupt-${name}-`);
  copySample(dir);
  execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', path.join(dir, 'key.pem')]);
  const repo = `${proxy.host}/studio/${name}`;
  const path_ = at ?? (await o.before!(dir, repo));
  let interrupt = () => {};
  let held = 0;
  const onHeld = () => ++held === (o.stopAtHeld ?? 1) && interrupt();
  proxy.setRules([{ method: 'GET', path: path_, count: o.hold ?? 1, action: { kind: 'hold', until: new Promise<never>(() => {}), onHeld } }]);
  try {
    const run = startCli(['build', ...flags, '--push', repo, ...(o.also ? ['--push', `${proxy.host}/studio/${o.also}`] : []), '--sbom', '--sign', 'key.pem'], { cwd: dir });
    interrupt = () => void run.child.kill(signal);
    const stopped = await run.result;
    expect(proxy.fired[0], stopped.stderr).toBeGreaterThanOrEqual(o.stopAtHeld ?? 1);
    expect(stopped.code, stopped.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
    return { dir, repo, line: stopped.stderr.trimEnd().split('\n').at(-1)! };
  } finally {
    proxy.setRules([]);
    await proxy.idle();
  }
}

describe('build --push --sbom --sign stopped after its push', () => {
  it('while attaching the SBOM: says the build is pushed, nothing attached, and the command that attaches it', async () => {
    const { dir, repo, line } = await stoppedAt('sbom-phase', /^\/v2\/studio\/sbom-phase\/referrers\//);
    const rerun = `gamelayer build --tag v1 --push ${repo} --sbom --sign key.pem --from ${repo}:v1`;
    expect(line).toBe(
      `build --push stopped by Ctrl-C after the push, while attaching its SBOM and signatures: the build v1 is pushed to ${repo} (every image and its record); ` +
        `its SBOM is not attached, nothing is signed; run the build again to attach them: ${rerun} (planned on the build pushed: nothing is built or pushed again)`,
    );
    // What the line says is so: every image and the record are tagged, no SBOM and no signature is there.
    const tags = await storedTags(registry.storageDir, 'studio/sbom-phase');
    expect(Object.keys(tags)).toEqual(expect.arrayContaining(IMAGE_TAGS));
    expect(referrerTags(tags)).toEqual([]);
    expect(signatureTags(tags)).toEqual([]);

    // The command it names finishes the job: signatures and SBOM attached, no image manifest put again.
    await registry.resetAccessLog();
    const again = await runCli(rerun.split(' ').slice(1), { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/SBOM sha256:[0-9a-f]{64}/);
    const finished = await storedTags(registry.storageDir, 'studio/sbom-phase');
    expect(referrerTags(finished)).toHaveLength(1);
    expect(signatureTags(finished).length).toBeGreaterThanOrEqual(5);
    const imagePuts = (await registry.accessLog()).filter((e) => e.method === 'PUT' && IMAGE_TAGS.some((t) => e.path.endsWith(`/manifests/${t}`)));
    expect(imagePuts).toEqual([]);
  }, 120_000);

  it('while signing: says the SBOM is attached and how many of the images are signed', async () => {
    // Every signature read held: no image gets signed, whichever the concurrent signings reach first.
    const { repo, line } = await stoppedAt('sign-phase', /^\/v2\/studio\/sign-phase\/manifests\/sha256-[0-9a-f]{64}\.sig$/, { hold: 1000 });
    expect(line).toBe(
      `build --push stopped by Ctrl-C after the push, while attaching its SBOM and signatures: the build v1 is pushed to ${repo} (every image and its record); ` +
        `its SBOM is attached, 0 of 5 images are signed; run the build again to attach them: gamelayer build --tag v1 --push ${repo} --sbom --sign key.pem --from ${repo}:v1 (planned on the build pushed: nothing is built or pushed again)`,
    );
    const tags = await storedTags(registry.storageDir, 'studio/sign-phase');
    expect(referrerTags(tags)).toHaveLength(1);
    expect(signatureTags(tags)).toEqual([]);
  }, 120_000);

  it('while signing, some images signed: says how many', async () => {
    // The engine's two images signed beforehand (gamelayer sign after a plain push); every other signature read held.
    // The signings go in the images' order (server, its SBOM, engine, engine-media, app, app-media), SIGN_CONCURRENCY
    // at once: once that many are held, the engine's two are done and nothing else is, however the requests interleave.
    const { repo, line } = await stoppedAt('some-signed', undefined, {
      hold: 1000,
      stopAtHeld: SIGN_CONCURRENCY,
      before: async (dir, repo) => {
        expect((await runCli(['build', '--tag', 'v1', '--push', repo], { cwd: dir })).code).toBe(0);
        for (const t of ['v1-engine', 'v1-engine-media']) expect((await runCli(['sign', `${repo}:${t}`, '--key', 'key.pem'], { cwd: dir })).code).toBe(0);
        const signed = signatureTags(await storedTags(registry.storageDir, 'studio/some-signed')).map((t) => t.slice(0, -'.sig'.length));
        expect(signed).toHaveLength(2);
        return new RegExp(`^/v2/studio/some-signed/manifests/(?!(?:${signed.join('|')})\\.sig$)sha256-[0-9a-f]{64}\\.sig$`);
      },
    });
    expect(line).toBe(
      `build --push stopped by Ctrl-C after the push, while attaching its SBOM and signatures: the build v1 is pushed to ${repo} (every image and its record); ` +
        `its SBOM is attached, 2 of 5 images are signed; run the build again to attach them: gamelayer build --tag v1 --push ${repo} --sbom --sign key.pem --from ${repo}:v1 (planned on the build pushed: nothing is built or pushed again)`,
    );
  }, 120_000);

  it('to two repositories, in the second one\'s SBOM: says the first has everything and the second nothing', async () => {
    const { repo, line } = await stoppedAt('first', /^\/v2\/studio\/second\/referrers\//, { also: 'second' });
    const second = `${proxy.host}/studio/second`;
    expect(line).toBe(
      `build --push stopped by Ctrl-C after the push, while attaching its SBOM and signatures: the build v1 is pushed to ${repo}, ${second} (every image and its record); ` +
        `${repo}: its SBOM is attached and its images are signed; ${second}: its SBOM is not attached, nothing is signed; ` +
        `run the build again to attach them: gamelayer build --tag v1 --push ${repo} --push ${second} --sbom --sign key.pem --from ${repo}:v1 (planned on the build pushed: nothing is built or pushed again)`,
    );
    expect(signatureTags(await storedTags(registry.storageDir, 'studio/first')).length).toBeGreaterThanOrEqual(5);
    expect(signatureTags(await storedTags(registry.storageDir, 'studio/second'))).toEqual([]);
  }, 120_000);

  it('by SIGTERM (a CI stopping the job): says so, exit 143', async () => {
    const { repo, line } = await stoppedAt('sigterm', /^\/v2\/studio\/sigterm\/manifests\/sha256-[0-9a-f]{64}\.sig$/, { signal: 'SIGTERM', hold: 1000 });
    expect(line).toBe(
      `build --push stopped by SIGTERM after the push, while attaching its SBOM and signatures: the build v1 is pushed to ${repo} (every image and its record); ` +
        `its SBOM is attached, 0 of 5 images are signed; run the build again to attach them: gamelayer build --tag v1 --push ${repo} --sbom --sign key.pem --from ${repo}:v1 (planned on the build pushed: nothing is built or pushed again)`,
    );
  }, 120_000);

  // --rebase planned the rerun afresh: a new record (another date) pushed again and the line tag moved; a tag left to
  // its default (a CodeBuild build number) is another on a retry. The command named plans on the build pushed, at its tag.
  it('with --rebase and no --tag: the command named pins the tag and plans on the build pushed; it pushes nothing again', async () => {
    const { dir, repo, line } = await stoppedAt('rebased', /^\/v2\/studio\/rebased\/referrers\//, { flags: ['--rebase'] });
    const rerun = `gamelayer build --push ${repo} --sbom --sign key.pem --tag 1.0.0 --from ${repo}:1.0.0`;
    expect(line).toBe(
      `build --push stopped by Ctrl-C after the push, while attaching its SBOM and signatures: the build 1.0.0 is pushed to ${repo} (every image and its record); ` +
        `its SBOM is not attached, nothing is signed; run the build again to attach them: ${rerun} (planned on the build pushed: nothing is built or pushed again)`,
    );
    const before = await storedTags(registry.storageDir, 'studio/rebased');
    await registry.resetAccessLog();
    const again = await runCli(rerun.split(' ').slice(1), { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^layers: 0 built,/m);
    // Every tag there before (images, record, line) names what it named; only the SBOM and signatures were added.
    const after = await storedTags(registry.storageDir, 'studio/rebased');
    expect(Object.fromEntries(Object.keys(before).map((t) => [t, after[t]]))).toEqual(before);
    expect(referrerTags(after)).toHaveLength(1);
    expect(signatureTags(after).length).toBeGreaterThanOrEqual(5);
    const puts = (await registry.accessLog()).filter((e) => e.method === 'PUT' && /\/manifests\//.test(e.path) && !/\/manifests\/(sha256:[0-9a-f]{64}|sha256-[0-9a-f]{64}(\.sig)?)$/.test(e.path));
    expect(puts.map((e) => e.path)).toEqual([]);
  }, 120_000);
});

