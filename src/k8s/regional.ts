// Which copy of a build a deploy spec pins: `--registry HOST` or `--region R` pick, among the repositories the local
// build record says the build was pushed to (or replicated to, by ECR), the one on that host or in that region.
// Same digests everywhere; only the host (and so the repository) changes. A region or host the build never
// reached still gives a repository (the configured one moved there), which the pushed-check then refuses, naming it.
import { GamelayerError } from '../errors.js';
import { parseEcrHost } from '../registry/ecr-host.js';
import type { BuildRecord } from '../types.js';

export interface RegionalPin {
  /** AWS region of the copy (an ECR host's region, or a push recorded with this region). */
  region?: string;
  /** Registry host (`host[:port]`) of the copy. */
  registry?: string;
}

const hostOf = (repository: string) => repository.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
const pathOf = (repository: string) => repository.replace(/^[a-z]+:\/\//, '').split('/').slice(1).join('/');

/** The repository of the copy `pin` names; `base` is the configured (or --repository) repository. */
export function regionalRepository(record: Pick<BuildRecord, 'pushed' | 'tags'>, base: string | undefined, pin: RegionalPin, recordFile: string): string | undefined {
  if (pin.region === undefined && pin.registry === undefined) return base;
  if (pin.region !== undefined && pin.registry !== undefined) {
    throw new GamelayerError('deploy.region', '--region and --registry both name the copy to deploy: give one', '--registry HOST for any registry, --region R for an ECR region');
  }
  if (pin.region !== undefined && !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(pin.region)) {
    throw new GamelayerError('deploy.region', `--region ${JSON.stringify(pin.region)}: expected an AWS region such as eu-west-1`);
  }
  const pushed = record.pushed ?? [];
  const matches = pushed.filter((p) =>
    pin.registry !== undefined ? hostOf(p.repository) === pin.registry : (p.region ?? parseEcrHost(hostOf(p.repository))?.region) === pin.region,
  );
  // Several copies there (two repositories on one host): the one with the configured path.
  const chosen = matches.length > 1 && base ? (matches.find((p) => pathOf(p.repository) === pathOf(base)) ?? matches[0]) : matches[0];
  if (chosen) return chosen.repository;
  if (pin.registry !== undefined) {
    if (!base) return undefined;
    return `${pin.registry}/${pathOf(base)}`;
  }
  const ecr = base ? parseEcrHost(hostOf(base)) : undefined;
  if (base && ecr) return `${hostOf(base).replace(`.${ecr.region}.`, `.${pin.region}.`)}/${pathOf(base)}`;
  throw new GamelayerError(
    'deploy.region',
    `${recordFile}: build ${record.tags[0]} has no copy in region ${pin.region}` +
      (pushed.length ? ` (it was pushed to ${pushed.map((p) => `${p.repository}${p.region ? ` (${p.region})` : ''}`).join(', ')})` : ' (it was never pushed)'),
    `push it there (gamelayer push with one destination per region), or pass --registry HOST`,
  );
}
