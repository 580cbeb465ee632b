// ECR host recognition, tag-immutability rules and the token half-life, without servers.
import { describe, expect, it } from 'vitest';
import { EcrTokenAuth } from '../src/registry/ecr-auth.js';
import { parseEcrHost, isEcrHost } from '../src/registry/ecr-host.js';
import { isTagImmutable } from '../src/registry/ecr.js';

describe('ECR host names', () => {
  it.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { accountId: '123456789012', region: 'us-gov-west-1', fips: true, dualStack: false }],
    ['210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn', { accountId: '210987654321', region: 'cn-north-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { accountId: '123456789012', region: 'eusc-de-east-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', { accountId: '123456789012', region: 'us-iso-east-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', { accountId: '123456789012', region: 'us-isob-east-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', { accountId: '123456789012', region: 'eu-isoe-west-1', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov', { accountId: '123456789012', region: 'us-isof-south-1', fips: false, dualStack: false }],
    ['123456789012.dkr-ecr.us-west-2.on.aws', { accountId: '123456789012', region: 'us-west-2', fips: false, dualStack: true }],
    ['123456789012.dkr-ecr-fips.us-east-2.on.aws', { accountId: '123456789012', region: 'us-east-2', fips: true, dualStack: true }],
    ['123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn', { accountId: '123456789012', region: 'cn-northwest-1', fips: false, dualStack: true }],
    ['123456789012.dkr.ecr.eu-west-3.amazonaws.com:443', { accountId: '123456789012', region: 'eu-west-3', fips: false, dualStack: false }],
    ['https://123456789012.DKR.ECR.EU-WEST-3.AMAZONAWS.COM', { accountId: '123456789012', region: 'eu-west-3', fips: false, dualStack: false }],
  ])('%s is ECR', (host, parts) => {
    expect(parseEcrHost(host)).toEqual(parts);
  });

  it.each([
    'public.ecr.aws',
    'registry-1.docker.io',
    '127.0.0.1:5000',
    'localhost:5000',
    '12345678901.dkr.ecr.us-east-1.amazonaws.com', // 11 digits
    '1234567890123.dkr.ecr.us-east-1.amazonaws.com', // 13 digits
    'dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
    'evil.example.123456789012.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.org',
    '123456789012.dkr.ecr.us-east-1.on.aws.example',
    '123456789012.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr..amazonaws.com',
    '123456789012.dkr.ecr.-bad.amazonaws.com',
  ])('%s is not ECR', (host) => {
    expect(isEcrHost(host)).toBe(false);
  });
});

describe('tag immutability', () => {
  it('follows the repository setting and its wildcard exclusions', () => {
    expect(isTagImmutable({ tagMutability: 'MUTABLE', mutabilityExclusions: [] }, 'v1')).toBe(false);
    expect(isTagImmutable({ tagMutability: 'IMMUTABLE', mutabilityExclusions: [] }, 'v1')).toBe(true);
    const withLatest = { tagMutability: 'IMMUTABLE_WITH_EXCLUSION', mutabilityExclusions: ['latest', 'dev-*'] };
    expect(isTagImmutable(withLatest, 'v1')).toBe(true);
    expect(isTagImmutable(withLatest, 'latest')).toBe(false);
    expect(isTagImmutable(withLatest, 'dev-42')).toBe(false);
    expect(isTagImmutable(withLatest, 'xdev-42')).toBe(true);
    expect(isTagImmutable({ tagMutability: 'MUTABLE_WITH_EXCLUSION', mutabilityExclusions: ['release.*'] }, 'release.1')).toBe(true);
    expect(isTagImmutable({ tagMutability: 'MUTABLE_WITH_EXCLUSION', mutabilityExclusions: ['release.*'] }, 'releasex1')).toBe(false);
  });
});

describe('ECR token half-life', () => {
  const HOUR = 3600_000;
  function setup() {
    let now = 0;
    let fetched = 0;
    const auth = new EcrTokenAuth(
      async () => {
        fetched++;
        return { username: 'AWS', password: `pw${fetched}`, expiresAt: new Date(now + 12 * HOUR) };
      },
      () => now,
    );
    return { auth, advance: (ms: number) => (now += ms), fetches: () => fetched };
  }
  const decode = (h: string) => Buffer.from(h.replace(/^Basic /, ''), 'base64').toString();

  it('reuses a token until half its lifetime has passed, then fetches a new one', async () => {
    const t = setup();
    expect(decode(await t.auth.authorization())).toBe('AWS:pw1');
    t.advance(6 * HOUR - 1000);
    expect(decode(await t.auth.authorization())).toBe('AWS:pw1');
    t.advance(2000);
    expect(decode(await t.auth.authorization())).toBe('AWS:pw2');
    expect(t.fetches()).toBe(2);
  });

  it('parallel requests share one token request; a 401 fetches a new one', async () => {
    const t = setup();
    const headers = await Promise.all(Array.from({ length: 10 }, () => t.auth.authorization()));
    expect(new Set(headers).size).toBe(1);
    expect(t.fetches()).toBe(1);
    expect(await t.auth.refresh()).toBe(true);
    expect(decode(await t.auth.authorization())).toBe('AWS:pw2');
  });
});
