// Registry auth for ECR: Basic `AWS:<token>` from GetAuthorizationToken. A token lasts 12 hours; a long push asks
// for a new one at half-life, and once more when the registry answers 401, so it never runs into the expiry.
import type { RegistryAuth } from './auth.js';

export interface EcrToken {
  /** The decoded Basic credentials, `AWS:<password>`. */
  username: string;
  password: string;
  expiresAt: Date;
}

export class EcrTokenAuth implements RegistryAuth {
  private token?: { header: string; refreshAt: number };
  /** One token request at a time, shared by parallel uploads. */
  private pending?: Promise<string>;
  /** Token requests made so far (for reports and tests). */
  fetches = 0;

  constructor(
    private readonly fetchToken: () => Promise<EcrToken>,
    private readonly clock: () => number = Date.now,
  ) {}

  async authorization(): Promise<string> {
    if (this.token && this.clock() < this.token.refreshAt) return this.token.header;
    return this.renew();
  }

  async refresh(): Promise<boolean> {
    // The registry refused the token (expired or revoked early): one new token is worth one more attempt.
    await this.renew();
    return true;
  }

  private renew(): Promise<string> {
    this.pending ??= (async () => {
      const fetchedAt = this.clock();
      const t = await this.fetchToken();
      this.fetches++;
      const lifetime = Math.max(0, t.expiresAt.getTime() - fetchedAt);
      const header = `Basic ${Buffer.from(`${t.username}:${t.password}`).toString('base64')}`;
      this.token = { header, refreshAt: fetchedAt + lifetime / 2 };
      return header;
    })().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }
}
