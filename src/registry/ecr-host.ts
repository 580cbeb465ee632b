// Recognises Amazon ECR private registries by host name, the way amazon-ecr-credential-helper does:
// `<12-digit account>.dkr.ecr[-fips].<region>.<partition domain>` and the dual-stack `…dkr-ecr…on.aws` form.
import { hostName } from './host-name.js';

/** Environment variable naming another ECR API endpoint (a VPC endpoint, a test double). */
export const ECR_ENDPOINT_ENV = 'GAMELAYER_ECR_ENDPOINT';

export interface EcrHost {
  accountId: string;
  region: string;
  fips: boolean;
  /** The dual-stack (IPv4 + IPv6) registry endpoint, `<account>.dkr-ecr.<region>.on.aws`. */
  dualStack: boolean;
}

// Partition domains: aws (amazonaws.com), China (amazonaws.com.cn), European Sovereign Cloud (amazonaws.eu), the
// isolated regions (c2s.ic.gov, sc2s.sgov.gov, cloud.adc-e.uk, csp.hci.ic.gov) and the dual-stack on.aws domains.
const DOMAINS = [
  'amazonaws.com',
  'amazonaws.com.cn',
  'amazonaws.eu',
  'c2s.ic.gov',
  'sc2s.sgov.gov',
  'cloud.adc-e.uk',
  'csp.hci.ic.gov',
  'on.aws',
  'on.amazonwebservices.com.cn',
];

const ECR_HOST = /^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z0-9][a-z0-9_-]*)\.(.+)$/;

/** The parts of an ECR private registry host (a port, if any, is ignored), or undefined for any other host. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST.exec(hostName(host.replace(/^https?:\/\//, '').replace(/\/.*$/, '')).toLowerCase());
  if (!m || !DOMAINS.includes(m[5]!)) return undefined;
  return { accountId: m[1]!, region: m[4]!, fips: m[3] !== undefined, dualStack: m[2] === '-' };
}

export function isEcrHost(host: string): boolean {
  return parseEcrHost(host) !== undefined;
}
