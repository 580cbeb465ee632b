// The legacy builder picks cached steps among the daemon's images while other clients may remove them; CI after
// stop 47 failed a `build --builder docker` with "unable to find image sha256:…" when a parallel job removed an
// image the cache probe had just listed. Such a build runs once more (with a warning); a second loss, or any
// other failure, fails the build. A scripted daemon gives the failure on cue: the real race cannot be timed.
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const LOST = `sha256:${'e3'.repeat(32)}`;
const lostMessage = JSON.stringify({ errorDetail: { message: `unable to find image "${LOST}"` }, error: `unable to find image "${LOST}"` });
const ok = ['{"stream":"Step 1/2 : FROM scratch\\n"}', '{"stream":"Step 2/2 : COPY . /\\n"}', '{"stream":"Successfully built aaaaaaaaaaaa\\n"}'];
let dir: string;
let socket: string;
let server: http.Server;
/** What the fake daemon answers each build with, in order (then `ok`), and how many builds it was asked. */
let answers: string[][] = [];
let builds = 0;

beforeAll(async () => {
  dir = await tempDir('gl-docker-lost-');
  await writeGame(dir);
  socket = path.join(dir, 'docker.sock');
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://daemon');
    res.setHeader('content-type', 'application/json');
    if (url.pathname.endsWith('/version')) return res.end(JSON.stringify({ Version: '20.10.24', ApiVersion: '1.41', Os: 'linux', Arch: 'amd64' }));
    if (url.pathname.endsWith('/build')) {
      builds++;
      const answer = answers.shift() ?? ok;
      req.resume();
      req.on('end', () => res.end(answer.map((l) => `${l}\n`).join('')));
      return;
    }
    if (/\/images\/.+\/json$/.test(url.pathname)) return res.end(JSON.stringify({ Id: `sha256:${'a'.repeat(64)}` }));
    res.statusCode = 404;
    res.end('{"message":"not in this fake daemon"}');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});
beforeEach(() => {
  builds = 0;
});

const build = () => runCli(['build', '--builder', 'docker', '--docker-compat', '-t', 'l1'], { cwd: dir, env: { DOCKER_HOST: `unix://${socket}` } });

describe('an image the daemon lost during a legacy build', () => {
  it('is built once more, with a warning naming the image', async () => {
    answers = [[ok[0]!, lostMessage]];
    const r = await build();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`docker server: the daemon lost image ${LOST} during the build (another client removed it); building again`);
    expect(builds).toBe(6); // server (twice), then the four tree images
  });

  it('lost twice in a row fails the build, naming the image', async () => {
    answers = [[lostMessage], [lostMessage]];
    const r = await build();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[docker.daemon]`);
    expect(r.stderr).toContain(`unable to find image "${LOST}"`);
    expect(builds).toBe(2);
  });

  it('any other failure is not tried again', async () => {
    answers = [['{"error":"COPY failed: no source files were specified"}']];
    const r = await build();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('COPY failed');
    expect(builds).toBe(1);
  });
});
