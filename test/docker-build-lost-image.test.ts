// The legacy builder picks cached steps among the daemon's images while other clients may remove them; CI after
// stop 47 failed a `build --builder docker` with "unable to find image sha256:…" when a parallel job removed an
// image the cache probe had just listed. Such a build runs once more (with a warning); a second loss, or any
// other failure, fails the build. A scripted daemon gives the failure on cue: the real race cannot be timed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startScriptedDaemon, type ScriptedDaemon } from './support/scripted-daemon.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const LOST = `sha256:${'e3'.repeat(32)}`;
const lostMessage = JSON.stringify({ errorDetail: { message: `unable to find image "${LOST}"` }, error: `unable to find image "${LOST}"` });
const ok = ['{"stream":"Step 1/2 : FROM scratch\\n"}', '{"stream":"Step 2/2 : COPY . /\\n"}', '{"stream":"Successfully built aaaaaaaaaaaa\\n"}'];
let dir: string;
let daemon: ScriptedDaemon;
/** What the fake daemon answers each build with, in order (then `ok`). */
let answers: string[][] = [];
let buildsBefore = 0;

beforeAll(async () => {
  dir = await tempDir('gl-docker-lost-');
  await writeGame(dir);
  daemon = await startScriptedDaemon(dir, { Version: '20.10.24', ApiVersion: '1.41' }, () => answers.shift() ?? ok);
});
afterAll(async () => {
  await daemon?.close();
});
beforeEach(() => {
  buildsBefore = daemon.builds();
});
const builds = () => daemon.builds() - buildsBefore;

const build = () => runCli(['build', '--builder', 'docker', '--docker-compat', '-t', 'l1'], { cwd: dir, env: daemon.env });

describe('an image the daemon lost during a legacy build', () => {
  it('is built once more, with a warning naming the image', async () => {
    answers = [[ok[0]!, lostMessage]];
    const r = await build();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`docker server: the daemon lost image ${LOST} during the build (another client removed it); building again`);
    expect(builds()).toBe(6); // server (twice), then the four tree images
  });

  it('lost twice in a row fails the build, naming the image', async () => {
    answers = [[lostMessage], [lostMessage]];
    const r = await build();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[docker.daemon]`);
    expect(r.stderr).toContain(`unable to find image "${LOST}"`);
    expect(builds()).toBe(2);
  });

  it('any other failure is not tried again', async () => {
    answers = [['{"error":"COPY failed: no source files were specified"}']];
    const r = await build();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('COPY failed');
    expect(builds()).toBe(1);
  });
});
