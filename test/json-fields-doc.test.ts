// docs/json.md says which top-level fields each command's --json prints (the stable ones); this runs the commands a
// script runs, against a real registry, and checks each output has every field the page promises and none it does not
// list, and that stdout held that one document.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFakeCodeBuild, TEST_CREDENTIALS, TEST_REGION } from './support/fake-codebuild.js';
import { copySample } from './support/sample.js';
import { useSigningFixture } from './support/signing-fixture.js';

const fx = useSigningFixture('gl-json-doc-');

/** docs/json.md's table: row name → fields, each with whether it may be absent. */
async function documented(): Promise<Map<string, { name: string; optional: boolean }[]>> {
  const page = await readFile(path.resolve('docs/json.md'), 'utf8');
  const rows = new Map<string, { name: string; optional: boolean }[]>();
  for (const m of page.matchAll(/^\| (.+?) \| (.+) \|$/gm)) {
    if (m[1] === 'command' || m[1] === '---') continue;
    // A field is a code span at the start of an item or after "/"; words in parentheses are its description.
    const fields = [...m[2]!.replace(/\([^()]*(\([^()]*\)[^()]*)*\)/g, '').matchAll(/`([a-zA-Z]+)(\?)?`/g)].map((f) => ({ name: f[1]!, optional: f[2] === '?' }));
    rows.set(m[1]!.replace(/`/g, ''), fields);
  }
  return rows;
}

let rows: Map<string, { name: string; optional: boolean }[]>;
let dir: string;
let repo: string;

beforeAll(async () => {
  rows = await documented();
  dir = path.join(fx.root, 'game');
  copySample(dir);
  repo = `${fx.reg.host}/studio/game`;
}, 60_000);

async function json(row: string, args: string[], status = 0, env?: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await runCli([...args, '--json'], { cwd: dir, env });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(status);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const fields = rows.get(row);
  expect(fields, `docs/json.md has no row "${row}"`).toBeDefined();
  const names = fields!.map((f) => f.name);
  expect(Object.keys(out).filter((k) => !names.includes(k)), `${row}: fields docs/json.md does not list`).toEqual([]);
  expect(fields!.filter((f) => !f.optional && !(f.name in out)).map((f) => f.name), `${row}: documented fields missing`).toEqual([]);
  return out;
}

describe('docs/json.md lists the fields each --json prints', () => {
  it('scan, build, build --push, push, diff, ls, inspect, gc, prune, dockerfile, init, sign, verify, a failure', async () => {
    await json('scan', ['scan']);
    await json('build', ['build', '--tag', 'v1']);
    await json('diff', ['diff']);
    const pushed = await json('build', ['build', '--tag', 'v2', '--push', repo]);
    expect(pushed.push).toBeDefined();
    await json('push (a build)', ['push', `${repo}:v1`, '--also-tag', 'latest']);
    await json('push (several destinations)', ['push', `${repo}:v1`, `${fx.reg.host}/studio/copy:v1`]);
    await json('push --image', ['push', `${repo}:one`, '--image', 'v1-app']);
    await json('diff', ['diff', '--against', repo]);
    await json('diff --against with nothing there', ['diff', '--against', `${fx.reg.host}/studio/none`]);
    await json('ls', ['ls']);
    await json('ls REPO', ['ls', repo]);
    await json('inspect', ['inspect', 'v2']);
    await json('inspect', ['inspect', `${repo}:v2`]);
    await json('gc', ['gc', '--keep', '1']);
    await json('prune', ['prune', repo, '--keep', '1']);
    await json('prune --lifecycle-policy', ['prune', repo, '--lifecycle-policy', 'print']);
    await json('dockerfile', ['dockerfile', '--out', path.join(fx.root, 'dockerfiles')]);
    expect((await json('k8s', ['k8s', '--tag', 'v2', '--repository', repo])).spec).toBeDefined();
    await json('k8s', ['k8s', '--tag', 'v2', '--repository', repo, '--out', path.join(fx.root, 'k8s')]);
    await json('k8s', ['k8s', '--tag', 'v2', '--repository', repo, '--kustomize-images']);
    expect((await json('ecs', ['ecs', '--tag', 'v2', '--repository', repo])).taskDefinition).toBeDefined();
    await json('ecs', ['ecs', '--tag', 'v2', '--repository', repo, '--out', path.join(fx.root, 'ecs')]);
    const failed = await json('verify', ['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem')], 1);
    expect(failed.error).toBeDefined();
    await json('sign', ['sign', `${repo}:v2`, '--key', path.join(fx.root, 'key.pem')]);
    await json('verify', ['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem')]);
    await json('any, failed', ['inspect', 'nosuch'], 1);
    await json('any, failed', ['codebuild', 'buildspec'], 2);
    await json('init', ['init', path.join(dir, 'app'), '--force']);
  });

  it('codebuild start and watch (a local CodeBuild stand-in)', async () => {
    const fake = await startFakeCodeBuild();
    try {
      fake.project('game-ok');
      fake.project('game-broken', { failIn: 'BUILD' });
      const env = { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, AWS_REGION: TEST_REGION, GAMELAYER_CODEBUILD_ENDPOINT: fake.endpoint };
      const started = await json('codebuild start', ['codebuild', 'start', '--project', 'game-ok'], 0, env);
      await json('codebuild start', ['codebuild', 'start', '--project', 'game-ok', '--watch', '--poll-interval', '20ms'], 0, env);
      await json('codebuild watch', ['codebuild', 'watch', started.id as string, '--poll-interval', '20ms'], 0, env);
      const failed = await json('codebuild start', ['codebuild', 'start', '--project', 'game-broken', '--watch', '--poll-interval', '20ms'], 1, env);
      expect(failed.error).toBeDefined();
    } finally {
      await fake.stop();
    }
  });
});
