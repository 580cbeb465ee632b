// ECR API refusals as a build engineer meets them setting a project up, through the CLI: a service quota reached
// (LimitExceededException, e.g. CreateRepository past the repositories a region's registry may hold) was reported
// as throttling ("still throttled after retries … lower --concurrency"), sending the user after rates; and a denied
// call said "allows this ECR action" without naming the IAM action, for expired session credentials too. The quota
// is now named as one (with Service Quotas), expired credentials as expired, and a refusal names `ecr:<Action>` on
// the repository and region. A quota is not retried either: waiting seconds does not lift it.
import { describe, expect, it } from 'vitest';
import { storedRepositories } from './support/registry.js';
import { useEcrGame } from './support/ecr-game.js';

const t = useEcrGame('gl-ecr-refusals-');
const build = (repo: string, flags: string[] = []) => t.buildPush(repo, 'v1', flags);

describe('ECR API refusals', () => {
  it('a service quota reached is named as one, not as throttling, and not retried', async () => {
    t.ecr.failNext('CreateRepository', 10, 'LimitExceededException', 'The operation did not succeed because it would have exceeded a service limit for your account.');
    const from = t.ecr.calls.length;
    const r = await build('studio/quota', ['--create-repo']);
    t.ecr.failNext('CreateRepository', 0, '', '');
    expect(r.code).toBe(1);
    // One call: the SDK counts LimitExceededException as throttling and retried it 5 times (8-19 s of backoff).
    expect(t.ecr.calls.slice(from).filter((c) => c.op === 'CreateRepository')).toHaveLength(1);
    expect(r.stderr).toContain('error[ecr.LimitExceededException]: ECR CreateRepository studio/quota (');
    expect(r.stderr).toContain('region eu-west-1): a service quota of the account is reached: The operation did not succeed');
    expect(r.stderr).toContain('hint: see the Amazon Elastic Container Registry quotas in Service Quotas (aws service-quotas list-service-quotas --service-code ecr)');
    expect(r.stderr).not.toContain('throttled');
    expect(await storedRepositories(t.ecr.registry.storageDir)).toEqual([]);
  });

  it('expired session credentials are named as such, not as a missing permission', async () => {
    t.ecr.failNext('DescribeRepositories', 1, 'ExpiredTokenException', 'The security token included in the request is expired');
    const r = await build('studio/game');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[ecr.ExpiredTokenException]: ECR DescribeRepositories studio/game (');
    expect(r.stderr).toContain('region eu-west-1): the AWS credentials have expired: The security token included in the request is expired');
    expect(r.stderr).toContain('hint: renew them (aws sso login, a new assume-role session) and run again');
  });

  it('a denied call names the IAM action, the repository and the region', async () => {
    t.ecr.failNext('DescribeRepositories', 1, 'AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/ci/1 is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:eu-west-1:123456789012:repository/studio/game because no identity-based policy allows the ecr:DescribeRepositories action');
    const r = await build('studio/game');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[ecr.AccessDeniedException]: ECR DescribeRepositories studio/game (');
    expect(r.stderr).toContain('hint: check the AWS credentials, and that their IAM policy (and the repository policy) allows ecr:DescribeRepositories on studio/game in eu-west-1');
  });
});
