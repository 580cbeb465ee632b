// `codebuild buildspec --region-also R…`: one build pushed to the repository of the same name in other AWS regions
// (docs/regions.md), as `build --push A --push B` does by hand. Each region's repository URI is a variable of its own
// (REPOSITORY_URI_EU_WEST_1), derived in pre_build from REPOSITORY_URI (the same account and path, that region's ECR
// host) unless the project or StartBuild sets it: a repository of another name or account, or a registry that is not
// ECR. The deploy specs of each region are pinned to its copy (`k8s`/`imagedefinitions --repository`), which the
// build record lists once the push (or ECR replication) put it there.
import { GamelayerError } from '../errors.js';

/** AWS region names: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`, `cn-north-1`. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export interface RegionRepository {
  region: string;
  /** The variable holding its repository URI. */
  variable: string;
}

/** The regions checked (names, no repeats) with their variables; `kind` names a buildspec that cannot take them. */
export function regionRepositories(regions: readonly string[] | undefined, kind: string | undefined): RegionRepository[] {
  if (!regions?.length) return [];
  if (kind) {
    throw new GamelayerError(
      'buildspec.regions',
      `codebuild buildspec ${kind} --region-also: ${kind === '--pr-check' ? 'a pull-request check pushes nothing' : 'the Docker path pushes one repository'}`,
      'use the daemonless buildspec (gamelayer codebuild buildspec --region-also R)',
    );
  }
  const seen = new Set<string>();
  return regions.map((region) => {
    if (!REGION.test(region)) throw new GamelayerError('buildspec.regions', `--region-also ${JSON.stringify(region)}: not an AWS region name`, 'name a region such as eu-west-1');
    if (seen.has(region)) throw new GamelayerError('buildspec.regions', `--region-also ${region}: given twice`, 'name each region once');
    seen.add(region);
    return { region, variable: `REPOSITORY_URI_${region.toUpperCase().replace(/-/g, '_')}` };
  });
}

/**
 * The pre_build line that sets a region's repository URI, unless set: REPOSITORY_URI's account and path on that
 * region's ECR host. A REPOSITORY_URI that is no ECR URI stops the phase (pushing the same repository twice would
 * pass for a second region); so does one already in that region.
 */
export function regionRepositoryLine({ region, variable }: RegionRepository): string {
  return (
    `if [ -z "$${variable}" ]; then ` +
    `if ! [[ "$REPOSITORY_URI" =~ ^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.(amazonaws\\.com(\\.cn)?)/(.+)$ ]]; then echo "${variable} is not set and REPOSITORY_URI is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>) to derive the ${region} one from: set ${variable} on the project" >&2; false; ` +
    `elif [ "\${BASH_REMATCH[2]}" = ${region} ]; then echo "REPOSITORY_URI is already in ${region}: drop --region-also ${region}, or set ${variable}" >&2; false; ` +
    `else export ${variable}="\${BASH_REMATCH[1]}.dkr.ecr.${region}.\${BASH_REMATCH[3]}/\${BASH_REMATCH[5]}"; fi; fi`
  );
}
