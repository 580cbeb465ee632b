// A Docker daemon on a unix socket that answers a build or a load with the JSON lines a test scripts: for daemon
// messages and failures a real daemon gives only by chance (empty messages, an image lost mid-build). Just the
// endpoints gamelayer calls: version, build, load, and the image inspect after a build.
import http from 'node:http';
import path from 'node:path';

export interface ScriptedDaemon {
  /** `DOCKER_HOST` pointing at it. */
  env: { DOCKER_HOST: string };
  /** Builds asked so far. */
  builds(): number;
  close(): Promise<void>;
}

/** Starts one at `dir/docker.sock`; `answer` gives each build's or load's messages, one JSON text a line. */
export async function startScriptedDaemon(dir: string, version: { Version: string; ApiVersion: string }, answer: (endpoint: 'build' | 'load') => string[]): Promise<ScriptedDaemon> {
  const socket = path.join(dir, 'docker.sock');
  let builds = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://daemon');
    res.setHeader('content-type', 'application/json');
    if (url.pathname.endsWith('/version')) return res.end(JSON.stringify({ ...version, Os: 'linux', Arch: 'amd64' }));
    if (url.pathname.endsWith('/build') || url.pathname.endsWith('/images/load')) {
      const endpoint = url.pathname.endsWith('/build') ? 'build' : 'load';
      if (endpoint === 'build') builds++;
      const lines = answer(endpoint);
      req.resume();
      req.on('end', () => res.end(lines.map((l) => `${l}\n`).join('')));
      return;
    }
    if (/\/images\/.+\/json$/.test(url.pathname)) return res.end(JSON.stringify({ Id: `sha256:${'a'.repeat(64)}` }));
    res.statusCode = 404;
    res.end('{"message":"not in this fake daemon"}');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    env: { DOCKER_HOST: `unix://${socket}` },
    builds: () => builds,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
