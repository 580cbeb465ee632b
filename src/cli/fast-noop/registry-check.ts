// The registry half of the fast path (stamp.ts): each tag the push set or verified must still name the manifest it
// named then (a registry holds a manifest only with its blobs: the kept layers are there), and a base named by tag
// must still resolve to the manifest the build pinned. Reads only (HEAD, and GET for a base's index and a token),
// with the credentials the full path would use when it can get them the same way: none, Basic from
// GAMELAYER_REGISTRY_USERNAME/PASSWORD or the docker config's `auths`, and a Bearer token from the realm the
// registry names. What it cannot do alike (a credential helper or credsStore, an identity token, ECR, a proxy) is
// a reason to fall through, as is any answer but the expected one.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { MANIFEST_ACCEPT } from '../../oci/media-types.js';
import { parseChallenge } from '../../registry/challenge.js';
import { findCredentials } from '../../registry/docker-config.js';
import { isEcrHost } from '../../registry/ecr-host.js';
import { pullScope } from '../../registry/scopes.js';
import { tokenOf } from '../../registry/token-answer.js';
import { samePlatform } from '../../oci/platform-match.js';
import { sha256, type RegistryPlace, type Stamp } from './stamp.js';

const TIMEOUT_MS = 10_000;
const MAX_BODY = 4 << 20;

/** Fell through: why. */
class NotSame extends Error {}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function request(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, limit = MAX_BODY): Promise<Answer> {
  // node:https (and TLS) only for an https registry: a loopback one needs neither.
  const lib = url.protocol === 'https:' ? await import('node:https') : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > limit) req.destroy(new NotSame(`${url.host}: answer too large`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new NotSame(`${url.host}: no answer in ${TIMEOUT_MS} ms`)));
    req.on('error', (e) => reject(e instanceof NotSame ? e : new NotSame(`${url.host}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    req.end();
  });
}

/**
 * Basic credentials for `host` (as the reference names it, a default port kept) as the full path finds them
 * (registry/docker-config.ts, the one reading of the environment and the docker config), undefined for none;
 * NotSame where it would differ or fail.
 */
async function basicCredentials(host: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (isEcrHost(host)) throw new NotSame(`${host}: ECR (its token comes from the AWS SDK)`);
  const found = await findCredentials(host, env);
  if ('problem' in found) throw new NotSame(found.problem);
  if ('helper' in found) throw new NotSame(`${host}: ${found.from === 'credHelpers' ? 'a credential helper' : 'credsStore'} in ${found.file}`);
  if ('identityToken' in found) throw new NotSame(`${host}: an identity token (${found.source})`);
  return 'none' in found ? undefined : Buffer.from(`${found.username}:${found.password}`).toString('base64');
}

/** One repository's reads, authorized as its first 401 asks (Basic, or a pull token from the named realm). */
class Repository {
  private authorization: string | undefined;
  private learned: Promise<void> | undefined;

  constructor(
    private readonly base: URL,
    private readonly name: string,
    private readonly basic: string | undefined,
  ) {}

  manifest(method: 'GET' | 'HEAD', reference: string): Promise<Answer> {
    return this.read(method, `manifests/${reference}`);
  }

  async read(method: 'GET' | 'HEAD', what: string, limit?: number): Promise<Answer> {
    const url = new URL(`/v2/${this.name}/${what}`, this.base);
    const ask = () => request(method, url, { accept: MANIFEST_ACCEPT, ...(this.authorization ? { authorization: this.authorization } : {}) }, limit);
    let answer = await ask();
    if (answer.status !== 401) return answer;
    const sent = this.authorization;
    this.learned ??= this.learn(answer.headers['www-authenticate']);
    await this.learned;
    if (this.authorization === sent) throw new NotSame(`${this.base.host}: refused (401)`);
    answer = await ask();
    if (answer.status === 401) throw new NotSame(`${this.base.host}: refused (401)`);
    return answer;
  }

  private async learn(header: string | string[] | undefined): Promise<void> {
    const challenge = parseChallenge(Array.isArray(header) ? header[0] : header);
    if (challenge?.scheme === 'basic' && this.basic) {
      this.authorization = `Basic ${this.basic}`;
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) throw new NotSame(`${this.base.host}: a challenge it cannot answer alike`);
    const realm = new URL(challenge.params.realm);
    if (realm.protocol !== 'https:' && realm.protocol !== this.base.protocol) throw new NotSame(`${this.base.host}: token realm over ${realm.protocol}`);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.append('scope', pullScope(this.name));
    const answer = await request('GET', realm, this.basic ? { authorization: `Basic ${this.basic}` } : {});
    if (answer.status !== 200) throw new NotSame(`${this.base.host}: token service answered ${answer.status}`);
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new NotSame(`${this.base.host}: token service answered something that is not JSON`);
    }
    // The full path's reading of the answer: where it would refuse the token, this falls through.
    const token = tokenOf(body);
    if ('problem' in token) throw new NotSame(`${this.base.host}: token service ${token.problem}`);
    this.authorization = `Bearer ${token.token}`;
  }
}

/** Undefined when every tag, kept layer, the record blob and base is as recorded; else why not. */
export async function registryDifference(stamp: Pick<Stamp, 'tags' | 'blobs' | 'bases' | 'recordBlob'>, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { tags, blobs, bases, recordBlob } = stamp;
  if (typeof recordBlob?.size !== 'number') return 'stamp damaged (record blob)';
  const repos = new Map<string, Repository>();
  // By the host as the reference names it: `host:443` and `host` may be two entries of the docker config.
  const credentials = new Map<string, string | undefined>();
  const repo = (c: RegistryPlace & { repository: string }) => {
    const key = `${c.registry} ${c.url} ${c.repository}`;
    let r = repos.get(key);
    if (!r) {
      r = new Repository(new URL(c.url), c.repository, credentials.get(c.registry));
      repos.set(key, r);
    }
    return r;
  };
  try {
    const places = [...tags, ...blobs, recordBlob, ...bases];
    if (places.some((c) => typeof c.registry !== 'string')) return 'stamp damaged (registry)';
    // Up front, each host once, as the full path connects before it asks.
    for (const host of new Set(places.map((c) => c.registry))) credentials.set(host, await basicCredentials(host, env));
    // The first question of each repository alone (it learns the auth), then the rest side by side: one round.
    const firsts = new Map<Repository, Promise<unknown>>();
    const checks: (() => Promise<void>)[] = [
      ...tags.map((t) => async () => {
        const answer = await repo(t).manifest('HEAD', t.tag);
        if (answer.status === 404) throw new NotSame(`tag ${t.tag} gone from ${t.repository}`);
        if (answer.status !== 200) throw new NotSame(`tag ${t.tag}: registry answered ${answer.status}`);
        if (answer.headers['docker-content-digest'] !== t.digest) throw new NotSame(`tag ${t.tag} moved in ${t.repository}`);
      }),
      ...blobs.map((b) => async () => {
        const answer = await repo(b).read('HEAD', `blobs/${b.digest}`);
        if (answer.status === 404) throw new NotSame(`layer ${b.digest} gone from ${b.repository}`);
        if (answer.status !== 200) throw new NotSame(`layer ${b.digest}: registry answered ${answer.status}`);
        if (answer.headers['content-length'] !== String(b.size)) throw new NotSame(`layer ${b.digest}: another size in ${b.repository}`);
      }),
      async () => {
        // Read whole and hashed, as the full path does (it repairs a damaged copy, and fails on a lost one).
        const b = recordBlob;
        const answer = await repo(b).read('GET', `blobs/${b.digest}`, Math.max(b.size, MAX_BODY));
        if (answer.status === 404) throw new NotSame(`record blob ${b.digest} gone from ${b.repository}`);
        if (answer.status !== 200) throw new NotSame(`record blob ${b.digest}: registry answered ${answer.status}`);
        if (answer.body.length !== b.size || `sha256:${sha256(answer.body)}` !== b.digest) throw new NotSame(`record blob ${b.digest}: other bytes in ${b.repository}`);
      },
      ...bases.map((b) => async () => {
        const answer = await repo(b).manifest('GET', b.tag);
        if (answer.status !== 200) throw new NotSame(`base ${b.repository}:${b.tag}: registry answered ${answer.status}`);
        if (baseDigests(answer, Object.keys(b.platforms)).some(([p, d]) => b.platforms[p] !== d)) throw new NotSame(`base ${b.repository}:${b.tag} moved`);
      }),
    ];
    const owners = [...tags.map((t) => repo(t)), ...blobs.map((b) => repo(b)), repo(recordBlob), ...bases.map((b) => repo(b))];
    await Promise.all(
      checks.map((check, i) => {
        const owner = owners[i]!;
        const first = firsts.get(owner);
        if (first) return first.then(check);
        const p = check();
        firsts.set(owner, p.catch(() => undefined));
        return p;
      }),
    );
    return undefined;
  } catch (e) {
    return e instanceof NotSame ? e.message : `registry: ${(e as Error).message}`;
  }
}

/**
 * Per platform, the manifest a base's tag resolves to: the manifest itself (one platform), or the index's one entry
 * for that os/arch. Two entries, none, or an answer it cannot read: NotSame (the full path decides).
 */
function baseDigests(answer: Answer, platforms: string[]): [string, string][] {
  const digest = answer.headers['docker-content-digest'];
  let doc: { mediaType?: string; manifests?: { digest?: string; platform?: { os?: string; architecture?: string; variant?: string } }[] };
  try {
    doc = JSON.parse(answer.body.toString('utf8')) as typeof doc;
  } catch {
    throw new NotSame('base manifest is not JSON');
  }
  if (!Array.isArray(doc.manifests)) {
    if (platforms.length !== 1 || typeof digest !== 'string') throw new NotSame('base is one manifest for several platforms');
    return [[platforms[0]!, digest]];
  }
  return platforms.map((p) => {
    const [os, architecture, variant] = p.split('/');
    const entries = doc.manifests!.filter((m) => m.platform && samePlatform(m.platform, { os, architecture, variant }));
    if (entries.length !== 1 || typeof entries[0]!.digest !== 'string') throw new NotSame(`base index: ${entries.length} entries for ${p}`);
    return [p, entries[0]!.digest!];
  });
}
