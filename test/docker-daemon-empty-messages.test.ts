// The Docker daemon's JSON-lines answers (build, load) hold messages that say nothing: `{"stream":null}`,
// `{"stream":""}`, `{"stream":"\n"}` between the others, `{"status":null}`, even a bare `null`. `load` (and
// `build --builder docker` loading an oci: base) printed an empty line for `{"stream":"\n"}`, and a `null` message
// failed the build ("Cannot read properties of null (reading 'error')"). Such messages now print nothing.
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const EMPTY = ['{"stream":null}', '{"stream":""}', '{"stream":"\\n"}', '{"status":null}', '{"status":""}', 'null', '{"stream":null,"status":null}'];
let dir: string;
let socket: string;
let server: http.Server;
/** What the fake daemon answers a build or a load with, one JSON message a line. */
let answer: string[] = [];

beforeAll(async () => {
  dir = await tempDir('gl-docker-empty-');
  await writeGame(dir);
  socket = path.join(dir, 'docker.sock');
  // Just the endpoints gamelayer calls: version, build, load, and the image inspect after a build.
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://daemon');
    res.setHeader('content-type', 'application/json');
    if (url.pathname.endsWith('/version')) return res.end(JSON.stringify({ Version: '24.0.7', ApiVersion: '1.43', Os: 'linux', Arch: 'amd64' }));
    if (url.pathname.endsWith('/build') || url.pathname.endsWith('/images/load')) {
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

const env = () => ({ DOCKER_HOST: `unix://${socket}` });
const blankLines = (text: string) => text.split('\n').slice(0, -1).filter((l) => l.trim() === '' || l.trim() === 'null');

describe('messages of the Docker daemon that say nothing', () => {
  it('load prints nothing for them, and the lines that say something', async () => {
    const built = await runCli(['build', '-t', 'b1'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    answer = [...EMPTY, '{"stream":"Loaded image: game:b1\\n"}', ...EMPTY];
    const r = await runCli(['load', '-t', 'b1'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Loaded image: game:b1\n');
    expect(blankLines(r.stderr)).toEqual([]);
    expect(blankLines(r.stdout)).toEqual([]);
  });

  it('build --builder docker prints nothing for them and builds', async () => {
    answer = [...EMPTY, '{"stream":"Step 1/2 : FROM scratch\\n"}', ...EMPTY, '{"stream":"Step 2/2 : COPY . /\\n"}', '{"stream":"Successfully built aaaaaaaaaaaa\\n"}'];
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '-t', 'd1'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^docker server: Step 2\/2 : COPY \. \/$/m);
    expect(blankLines(r.stderr)).toEqual([]);
  });
});
