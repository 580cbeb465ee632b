// Registry authentication as one small interface, so ECR can swap in its own (Basic from GetAuthorizationToken)
// while the push code path stays the same. DockerAuth implements the Docker/OCI flows: anonymous, Basic, and
// Bearer tokens from the realm named in the WWW-Authenticate challenge, cached per scope set.
import { GamelayerError } from '../errors.js';
import { parseChallenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { assertTransportAllowed } from './reference.js';
import { tokenOf } from './token-answer.js';
import { BodyTooLarge, send, TransportError } from './transport.js';

export interface RegistryAuth {
  /** The Authorization header value for a request needing `scopes`, or undefined to go anonymously. */
  authorization(scopes: string[]): Promise<string | undefined>;
  /**
   * Called with the WWW-Authenticate header of a 401. Returns true when new credentials were obtained and one more
   * attempt can succeed; false when nothing new can be tried. `sent` is the Authorization the refused request
   * carried (undefined: it went anonymously).
   */
  refresh(wwwAuthenticate: string | undefined, scopes: string[], sent?: string): Promise<boolean>;
  /** Who the credentials are (a user name), for local state keyed by credential (upload-sessions.ts); never a secret. */
  readonly principal?: string;
}

/** Fixed Basic credentials: what ECR's GetAuthorizationToken gives (user AWS). */
export class BasicAuth implements RegistryAuth {
  constructor(private readonly header: string) {}

  static of(username: string, password: string): BasicAuth {
    return new BasicAuth(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
  }

  async authorization(): Promise<string> {
    return this.header;
  }

  async refresh(): Promise<boolean> {
    return false;
  }
}

interface BearerRealm {
  realm: URL;
  service?: string;
}

export class DockerAuth implements RegistryAuth {
  private mode: 'anonymous' | 'basic' | 'bearer' = 'anonymous';
  private bearer?: BearerRealm;
  private readonly tokens = new Map<string, string>();
  /** The scopes each cached token was asked for (more than its key's when a challenge named more). */
  private readonly tokenScopes = new Map<string, string[]>();
  /** Pending token fetches, so parallel uploads share one request per scope set. */
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly host: string,
    private readonly credentials: Credentials | undefined,
    private readonly insecure = false,
  ) {}

  get principal(): string | undefined {
    return this.credentials?.username;
  }

  async authorization(scopes: string[]): Promise<string | undefined> {
    if (this.mode === 'basic') return this.basicHeader();
    if (this.mode === 'bearer') {
      const key = scopeKey(scopes);
      const token = this.tokens.get(key) ?? (await this.fetchToken(scopes));
      return `Bearer ${token}`;
    }
    return undefined;
  }

  async refresh(wwwAuthenticate: string | undefined, scopes: string[], sent?: string): Promise<boolean> {
    const challenge = parseChallenge(wwwAuthenticate);
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (!this.hasPassword()) return false;
      // Requests sent side by side before the scheme was known all went anonymously: each gets one more attempt
      // with the password, which only the first of them switched on. The password itself refused: nothing new.
      if (this.mode === 'basic') return sent !== this.basicHeader();
      this.mode = 'basic';
      return true;
    }
    if (challenge.scheme === 'bearer') {
      const realm = challenge.params.realm;
      if (!realm) return false;
      let url: URL;
      try {
        url = new URL(realm);
      } catch {
        throw new GamelayerError('registry.auth', `${this.host}: token realm "${realm}" is not a URL`);
      }
      assertTransportAllowed(url, this.insecure, 'the token request');
      this.mode = 'bearer';
      this.bearer = { realm: url, service: challenge.params.service };
      const wanted = [...new Set([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])];
      // Requests sent side by side before the realm was known went without a token; one whose challenge came after
      // a sibling's token for the same scopes (one that covers what this challenge asks) retries with it: a token
      // fetch of its own was one more round trip, and dropped the token the others were using.
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached !== undefined && sent !== `Bearer ${cached}` && wanted.every((w) => this.tokenScopes.get(key)?.includes(w))) return true;
      // Drop the cached token (it was refused or lacked a scope) and fetch a new one.
      this.tokens.delete(key);
      this.tokens.delete(scopeKey(wanted));
      const token = await this.fetchToken(wanted);
      this.tokens.set(key, token);
      this.tokenScopes.set(key, wanted);
      return true;
    }
    return false;
  }

  private hasPassword(): boolean {
    return Boolean(this.credentials?.username && this.credentials.password);
  }

  private basicHeader(): string {
    const c = this.credentials!;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private fetchToken(scopes: string[]): Promise<string> {
    const key = scopeKey(scopes);
    const running = this.pending.get(key);
    if (running) return running;
    const p = this.requestToken(scopes).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private async requestToken(scopes: string[]): Promise<string> {
    const b = this.bearer;
    if (!b) throw new GamelayerError('registry.auth', `${this.host}: asked for a token before the registry named its realm`);
    const c = this.credentials;
    const url = new URL(b.realm);
    let res;
    try {
      if (c?.identityToken) {
        // OAuth2 refresh-token grant (Docker's identitytoken).
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identityToken, client_id: 'gamelayer' });
        if (b.service) form.set('service', b.service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await send({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: Buffer.from(form.toString()),
          idleTimeoutMs: 30_000,
          readBody: TOKEN_BODY,
        });
      } else {
        if (b.service) url.searchParams.set('service', b.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (this.hasPassword()) headers.authorization = this.basicHeader();
        res = await send({ method: 'GET', url, headers, idleTimeoutMs: 30_000, readBody: TOKEN_BODY });
      }
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        throw new GamelayerError('registry.too-large', `${this.host}: token service ${b.realm.origin}${b.realm.pathname} answered with more than ${e.maxBytes} bytes, more than a token can hold`, undefined, { cause: e });
      }
      const code = e instanceof TransportError ? e.code : 'error';
      throw new GamelayerError('registry.auth', `${this.host}: token service ${b.realm.origin}${b.realm.pathname} unreachable (${code})`, undefined, {
        cause: e,
      });
    }
    if ((res.status === 401 || res.status === 403) && !c?.identityToken && !this.hasPassword()) {
      await res.discard();
      // Nothing was sent to refuse: the registry wants credentials we do not have.
      throw new GamelayerError(
        'registry.unauthorized',
        `${this.host}: the token service refused a request without credentials (HTTP ${res.status}); this registry needs them`,
        'pass --username USER --password-stdin, set GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login',
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.discard();
      throw new GamelayerError(
        'registry.unauthorized',
        `${this.host}: the token service refused the credentials${c ? ` from ${c.source}` : ''} (HTTP ${res.status})`,
        'check the username and password (or docker login again)',
      );
    }
    if (res.status !== 200) {
      await res.discard();
      throw new GamelayerError('registry.auth', `${this.host}: token service answered HTTP ${res.status}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(await res.text()) as unknown;
    } catch {
      throw new GamelayerError('registry.auth', `${this.host}: token service answered something that is not JSON`);
    }
    const answer = tokenOf(body);
    if ('problem' in answer) {
      const hint = 'the realm the registry named (WWW-Authenticate) is not a working token service: check the registry address and any proxy in between';
      throw new GamelayerError('registry.auth', `${this.host}: token service ${b.realm.origin}${b.realm.pathname} ${answer.problem}`, hint);
    }
    const { token } = answer;
    this.tokens.set(scopeKey(scopes), token);
    this.tokenScopes.set(scopeKey(scopes), scopes);
    return token;
  }
}

/** A token answer is read whole, and bounded: tokens are a few KiB (ECR's about 2). */
const TOKEN_BODY = { maxBytes: 1024 * 1024, when: (status: number) => status === 200 };

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}
