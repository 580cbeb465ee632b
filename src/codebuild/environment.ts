// The facts of the AWS CodeBuild build we run inside, read from the variables CodeBuild sets in every build
// container. Used for the default image tag and the BuildRecord's codebuildArn, revision and sourceUrl. No image
// labels are made of them (stop 43 removed `labels`): one would give every image a new digest with each commit, and
// the record's revision annotation is spelt once, in registry/artifact.ts.

export interface CodebuildEnvironment {
  buildId: string;
  /** `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>`. */
  buildArn?: string;
  buildNumber?: number;
  /** The commit (or S3 object version) CodeBuild checked out, resolved from branch names and tags. */
  resolvedSourceVersion?: string;
  /** What the build was asked to build (a branch, `pr/12`, a commit), as given. */
  sourceVersion?: string;
  sourceRepoUrl?: string;
  region?: string;
  initiator?: string;
  /** `<first 8 characters of the resolved source version>`, else `build-<number>`, else undefined. */
  defaultTag?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;

/** undefined when not inside CodeBuild (no CODEBUILD_BUILD_ID). Pure: reads only the `env` it is given. */
export function codebuildEnvironment(env: NodeJS.ProcessEnv = process.env): CodebuildEnvironment | undefined {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const buildId = value('CODEBUILD_BUILD_ID');
  if (!buildId) return undefined;
  const numberText = value('CODEBUILD_BUILD_NUMBER');
  const buildNumber = numberText && /^\d+$/.test(numberText) ? Number(numberText) : undefined;
  const resolvedSourceVersion = value('CODEBUILD_RESOLVED_SOURCE_VERSION');
  const buildArn = value('CODEBUILD_BUILD_ARN');
  const sourceRepoUrl = value('CODEBUILD_SOURCE_REPO_URL');

  // The seed pipeline tagged images with the commit's first 8 hex digits; keep that so tags stay comparable.
  const short = resolvedSourceVersion?.slice(0, 8);
  const defaultTag = short && TAG.test(short) ? short : buildNumber !== undefined ? `build-${buildNumber}` : undefined;

  return {
    buildId,
    buildArn,
    buildNumber,
    resolvedSourceVersion,
    sourceVersion: value('CODEBUILD_SOURCE_VERSION'),
    sourceRepoUrl,
    region: value('AWS_REGION') ?? value('AWS_DEFAULT_REGION'),
    initiator: value('CODEBUILD_INITIATOR'),
    defaultTag,
  };
}
