// A minimal Docker token server (the protocol of distribution's `auth.token`): GET /token?service=&scope=… with
// optional Basic credentials answers {token} — an RS256 JWT whose x5c header carries a self-signed certificate the
// registry trusts through `rootcertbundle`. Counts token requests so tests can see refreshes.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { RegistryUser } from './registry.js';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Token requests answered so far, with the user they were issued to ('' for anonymous) and when (ms). */
  issued: { user: string; scopes: string[]; at: number; token: string }[];
  /**
   * The `exp` claim of the tokens issued from now on, in seconds after their issue (default 300). The registry
   * (distribution 2.8) accepts a token until 60 s past its `exp` (its leeway for clock skew): -57 makes a token
   * the registry refuses about 3 s after it was issued.
   */
  expSeconds: number;
  /**
   * The fields of the answers from now on, given the signed token (undefined: `token` and `access_token` both the
   * token, with `expires_in` and `issued_at`): a test makes the service answer in another shape.
   */
  answer: ((token: string) => Record<string, unknown>) | undefined;
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  dir: string;
  users: RegistryUser[];
  service: string;
  readOnlyRepos: string[];
  /** Repositories these users may not even read (another team's): no action granted. */
  closedRepos?: string[];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const keyFile = path.join(opts.dir, 'token-key.pem');
  const certFile = path.join(opts.dir, 'token-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', '/CN=gamelayer-test-token-issuer',
  ], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw;
  const issuer = 'gamelayer-test-issuer';
  const issued: TokenServer['issued'] = [];
  const state: { expSeconds: number; answer: TokenServer['answer'] } = { expSeconds: 300, answer: undefined };

  const sign = (sub: string, access: { type: string; name: string; actions: string[] }[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub, aud: opts.service, exp: now + state.expSeconds, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let user = '';
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(authz.slice(6), 'base64').toString('utf8').split(':');
      const known = opts.users.find((x) => x.username === u && x.password === rest.join(':'));
      if (!known) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = known.username;
    }
    const scopes = url.searchParams.getAll('scope');
    const at = Date.now();
    const access = scopes.flatMap((s) => {
      const m = /^(repository):([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const name = m[2]!;
      let actions = m[3]!.split(',');
      // Anonymous callers get nothing; read-only repositories never grant push.
      if (!user) actions = [];
      if (opts.readOnlyRepos.includes(name)) actions = actions.filter((a) => a === 'pull');
      if (opts.closedRepos?.includes(name)) actions = [];
      return [{ type: m[1]!, name, actions }];
    });
    const token = sign(user, access);
    issued.push({ user, scopes, at, token });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(state.answer?.(token) ?? { token, access_token: token, expires_in: Math.max(1, state.expSeconds + 60), issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: opts.service,
    issuer,
    certFile,
    issued,
    get expSeconds() {
      return state.expSeconds;
    },
    set expSeconds(s: number) {
      state.expSeconds = s;
    },
    get answer() {
      return state.answer;
    },
    set answer(a) {
      state.answer = a;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
