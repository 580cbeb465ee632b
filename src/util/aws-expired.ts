// An AWS call refused with ExpiredTokenException: short-lived credentials in the environment (an SSO or assumed-role
// session) ran out. Not a permission, a key or a project to check: ECR, CodeBuild and KMS calls say it alike.

export const EXPIRED_TOKEN = 'ExpiredTokenException';

/** What to do about it. */
export const EXPIRED_HINT =
  'renew them (aws sso login, a new assume-role session) and run again; a role the SDK reads itself (CodeBuild, EC2, ECS) is renewed on its own';
