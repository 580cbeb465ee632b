// A real CNCF distribution registry (Debian `docker-registry`, 2.8) for tests: free loopback port, temp storage,
// delete enabled; optional htpasswd Basic auth or a Bearer token server. What reached the registry is read from its
// own access log, and what it stores is read from its storage directory — never from our client's counters.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile, readdir, stat } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTokenServer, type TokenServer } from './token-server.js';

export interface RegistryUser {
  username: string;
  password: string;
}

export interface StartRegistryOptions {
  /** `basic`: htpasswd; `token`: Bearer tokens from a local token server. */
  auth?: 'none' | 'basic' | 'token';
  users?: RegistryUser[];
  /** Token auth: repositories nobody may push to (pull is still granted). */
  readOnlyRepos?: string[];
  /** Token auth: repositories nobody may read or push to. */
  closedRepos?: string[];
  /** Answer with relative Location headers (distribution's http.relativeurls). */
  relativeUrls?: boolean;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (its file: `caFile`). The access log is not readable. */
  tls?: boolean;
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  url: string;
  storageDir: string;
  users: RegistryUser[];
  tokenServer?: TokenServer;
  /** With `tls`: the self-signed certificate (PEM) the registry serves, to trust with NODE_EXTRA_CA_CERTS. */
  caFile?: string;
  /** Every request the registry answered, in order, from its access log. */
  accessLog(): Promise<AccessLogEntry[]>;
  /** Number of blob uploads the registry completed (PUT …/blobs/uploads/… answered 201). */
  completedUploads(): Promise<number>;
  /** The digests of those uploads, in order: into `repo`, or into any repository. A digest twice was sent twice. */
  uploadedBlobs(repo?: string): Promise<string[]>;
  /** Forget the access log so far (counts start again from zero). */
  resetAccessLog(): Promise<void>;
  /**
   * Runs distribution's own garbage collection (`docker-registry garbage-collect`, without --delete-untagged) on the
   * storage, as an operator does after prune; returns its output. Only while nothing writes to the registry.
   */
  collectGarbage(): Promise<string>;
  stop(): Promise<void>;
}

export const DEFAULT_USER: RegistryUser = { username: 'tester', password: 'pw-7Gq!x9Zr' };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  const users = options.users ?? (auth === 'none' ? [] : [DEFAULT_USER]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gl-registry-'));
  const storageDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'access.log');
  let tokenServer: TokenServer | undefined;
  let authYaml = '';
  if (auth === 'basic') {
    const lines = users.map((u) => execFileSync('htpasswd', ['-Bbn', u.username, u.password], { encoding: 'utf8' }).trim());
    await writeFile(path.join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: gamelayer-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    tokenServer = await startTokenServer({ dir, users, service: 'gamelayer-test', readOnlyRepos: options.readOnlyRepos ?? [], closedRepos: options.closedRepos ?? [] });
    authYaml =
      `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${tokenServer.service}\n` +
      `    issuer: ${tokenServer.issuer}\n    rootcertbundle: ${tokenServer.certFile}\n`;
  }

  let tlsYaml = '';
  const caFile = path.join(dir, 'cert.pem');
  if (options.tls) {
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', caFile,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    tlsYaml = `  tls:\n    certificate: ${caFile}\n    key: ${keyFile}\n`;
  }

  // The port can be taken between freePort() and the registry's bind: try a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config =
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\n` +
      `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n` +
      `http:\n  addr: 127.0.0.1:${port}\n  secret: gamelayer-test-secret\n  relativeurls: ${options.relativeUrls ? 'true' : 'false'}\n` +
      tlsYaml +
      authYaml;
    await writeFile(path.join(dir, 'config.yml'), config);
    await writeFile(logFile, '');
    const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout!.pipe(log);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    // A TLS registry is probed in plain HTTP: its 400 ("HTTP request to an HTTPS server") says it is serving.
    const up = await waitUntilAnswers(`http://127.0.0.1:${port}/v2/`, child, 10_000, options.tls === true);
    if (!up) {
      child.kill('SIGKILL');
      if (/address already in use/.test(stderr)) continue;
      await tokenServer?.stop();
      throw new Error(`docker-registry did not answer on ${url}/v2/: ${stderr.slice(-2000)}`);
    }
    const parseLog = (text: string): AccessLogEntry[] => {
      const out: AccessLogEntry[] = [];
      for (const line of text.split('\n')) {
        const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
        if (m) out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]) });
      }
      return out;
    };
    // The registry writes an answer's log line after the answer, and the line reaches the file through a pipe: a
    // request the client has just seen answered may not be in the file yet (a test failed so under load). So a read
    // first asks for a mark (GET /v2/?gl-log-mark=N) and waits until the mark's line is in the file: every answer
    // completed before the mark was sent is there too. Mark lines are left out of what the log returns.
    let marks = 0;
    const settled = async (): Promise<string> => {
      const mark = `gl-log-mark=${++marks}`;
      await fetch(`${url}/v2/?${mark}`).then((r) => r.arrayBuffer()).catch(() => undefined);
      for (let i = 0; i < 1000; i++) {
        const text = await readFile(logFile, 'utf8');
        if (text.includes(`?${mark} `)) return text;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`docker-registry's access log (${logFile}) never showed the mark ${mark}`);
    };
    const readLog = async (): Promise<AccessLogEntry[]> => parseLog(await settled()).filter((e) => !e.path.includes('gl-log-mark='));
    const uploadedBlobs = async (repo?: string): Promise<string[]> =>
      (await readLog())
        .filter((e) => e.method === 'PUT' && e.status === 201 && (repo === undefined ? /^\/v2\/.+\/blobs\/uploads\//.test(e.path) : e.path.startsWith(`/v2/${repo}/blobs/uploads/`)))
        .map((e) => new URL(e.path, 'http://x').searchParams.get('digest') ?? '?');
    return {
      host: `127.0.0.1:${port}`,
      url,
      storageDir,
      users,
      tokenServer,
      ...(options.tls ? { caFile } : {}),
      accessLog: readLog,
      async completedUploads() {
        return (await uploadedBlobs()).length;
      },
      uploadedBlobs,
      async resetAccessLog() {
        await settled();
        await writeFile(logFile, '');
      },
      async collectGarbage() {
        return execFileSync('docker-registry', ['garbage-collect', path.join(dir, 'config.yml')], { encoding: 'utf8', maxBuffer: 16 << 20 });
      },
      async stop() {
        await stopChild(child);
        log.end();
        await tokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('docker-registry: no free port after 5 attempts');
}

async function waitUntilAnswers(url: string, child: ChildProcess, timeoutMs: number, tls = false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(url);
      // 200 without auth, 401 with auth: either way the registry is serving.
      if (res.status === 200 || res.status === 401 || (tls && res.status === 400)) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// ---- reading the registry's storage (distribution's filesystem driver layout) ----

const V2 = ['docker', 'registry', 'v2'];

function blobDataPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return path.join(storageDir, ...V2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

export async function readStoredBlob(storageDir: string, digest: string): Promise<Buffer | undefined> {
  const p = blobDataPath(storageDir, digest);
  return existsSync(p) ? readFile(p) : undefined;
}

async function listDir(p: string): Promise<string[]> {
  try {
    return await readdir(p);
  } catch {
    return [];
  }
}

/** Repositories (`a/b`) that hold at least one manifest revision. */
export async function storedRepositories(storageDir: string): Promise<string[]> {
  const root = path.join(storageDir, ...V2, 'repositories');
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = await listDir(path.join(root, rel));
    if (names.includes('_manifests')) out.push(rel);
    for (const n of names) {
      if (n.startsWith('_')) continue;
      const s = await stat(path.join(root, rel, n)).catch(() => undefined);
      if (s?.isDirectory()) await walk(rel ? `${rel}/${n}` : n);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Digests of every manifest revision stored in `repo`. A deleted manifest (DELETE by digest) loses its revision's
 * `link` but keeps the folder (and its blob, until the registry's garbage collection): it is not counted.
 */
export async function storedManifests(storageDir: string, repo: string): Promise<string[]> {
  const dir = path.join(storageDir, ...V2, 'repositories', ...repo.split('/'), '_manifests', 'revisions', 'sha256');
  return (await listDir(dir)).filter((h) => existsSync(path.join(dir, h, 'link'))).map((h) => `sha256:${h}`).sort();
}

/** Digests of the blobs linked into `repo` (a push's completed uploads and mounts), as stored. */
export async function storedBlobs(storageDir: string, repo: string): Promise<string[]> {
  const dir = path.join(storageDir, ...V2, 'repositories', ...repo.split('/'), '_layers', 'sha256');
  return (await listDir(dir)).filter((h) => existsSync(path.join(dir, h, 'link'))).map((h) => `sha256:${h}`).sort();
}

/** Tag → manifest digest, as stored. */
export async function storedTags(storageDir: string, repo: string): Promise<Record<string, string>> {
  const dir = path.join(storageDir, ...V2, 'repositories', ...repo.split('/'), '_manifests', 'tags');
  const out: Record<string, string> = {};
  for (const tag of await listDir(dir)) {
    const link = path.join(dir, tag, 'current', 'link');
    if (existsSync(link)) out[tag] = (await readFile(link, 'utf8')).trim();
  }
  return out;
}

/**
 * Every problem in the registry's storage: a manifest (image or index) whose config, layers or child manifests
 * are missing from the blob store or not linked into the repository. Empty when storage is consistent.
 */
export async function storageProblems(storageDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const repo of await storedRepositories(storageDir)) {
    const repoDir = path.join(storageDir, ...V2, 'repositories', ...repo.split('/'));
    const manifests = new Set(await storedManifests(storageDir, repo));
    for (const digest of manifests) {
      const bytes = await readStoredBlob(storageDir, digest);
      if (!bytes) {
        problems.push(`${repo}: manifest ${digest} has no blob data`);
        continue;
      }
      const doc = JSON.parse(bytes.toString('utf8')) as {
        config?: { digest: string };
        layers?: { digest: string }[];
        manifests?: { digest: string }[];
      };
      const blobs = [...(doc.config ? [doc.config.digest] : []), ...(doc.layers ?? []).map((l) => l.digest)];
      for (const b of blobs) {
        if (!existsSync(blobDataPath(storageDir, b))) problems.push(`${repo}: manifest ${digest} references missing blob ${b}`);
        const link = path.join(repoDir, '_layers', 'sha256', b.replace(/^sha256:/, ''), 'link');
        if (!existsSync(link)) problems.push(`${repo}: manifest ${digest} references blob ${b} not linked in the repository`);
      }
      for (const child of doc.manifests ?? []) {
        if (!manifests.has(child.digest)) problems.push(`${repo}: index ${digest} references missing manifest ${child.digest}`);
      }
    }
  }
  return problems;
}
