// `--help` examples for every command, in one place (each command's own file stays about its options).
import type { Command } from 'commander';

const EXAMPLES: Record<string, string[]> = {
  init: ['gamelayer init                          # in the build folder', 'gamelayer init Saved/StagedBuilds/LinuxServer --game shooter', 'gamelayer init build/ --force           # replace an existing config'],
  scan: ['gamelayer scan', 'gamelayer scan --json | jq \'.trees[] | {tree, files, bytes}\''],
  diff: ['gamelayer diff                          # working trees against the last build', 'gamelayer diff --exit-code || echo "changed (3) or failed (1)"', 'gamelayer diff --against 127.0.0.1:5000/studio/game:v1'],
  build: ['gamelayer build --tag 1.4.2', 'gamelayer build --tag "$GITHUB_SHA" --push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/game', 'gamelayer build --from 127.0.0.1:5000/studio/game:v1 --push 127.0.0.1:5000/studio/game'],
  push: ['gamelayer push 127.0.0.1:5000/studio/game:1.4.2', 'gamelayer push 1.4.2 --also-tag latest   # to the registry in gamelayer.yaml', 'echo "$PW" | gamelayer push registry.example.com/game:1.4.2 --username ci --password-stdin'],
  k8s: ['gamelayer k8s --kind deployment --out k8s/', 'gamelayer k8s --kind fleet --volumes image'],
  ecs: ['gamelayer ecs --out ecs/'],
  dockerfile: ['gamelayer dockerfile --out dockerfiles/'],
  load: ['gamelayer load                          # the last build', 'gamelayer load --tag 1.4.2 --no-trees'],
  'run-local': ['gamelayer run-local', 'gamelayer run-local --tag 1.4.2 --timeout 2m --keep'],
  codebuild: ['gamelayer codebuild start --project game --watch', 'gamelayer codebuild buildspec --out buildspec.yml'],
  'codebuild start': ['gamelayer codebuild start --project game --watch --timeout 45m'],
  'codebuild watch': ['gamelayer codebuild watch game:0b0f7c1e-…'],
  'codebuild stop': ['gamelayer codebuild stop game:0b0f7c1e-…'],
  'codebuild buildspec': ['gamelayer codebuild buildspec --out buildspec.yml', 'gamelayer codebuild buildspec --pr-check'],
  'codebuild imagedefinitions': ['gamelayer codebuild imagedefinitions --out imagedefinitions.json'],
  ls: ['gamelayer ls                            # the local store', 'gamelayer ls 127.0.0.1:5000/studio/game   # a registry repository', "gamelayer ls --json | jq -r '.tags[] | select(.record) | .tag'"],
  inspect: ['gamelayer inspect                       # the last local build', 'gamelayer inspect 1.4.2', 'gamelayer inspect 127.0.0.1:5000/studio/game:1.4.2 --json'],
  gc: ['gamelayer gc                            # what would go, keeping the 3 newest builds', 'gamelayer gc --keep 1 --apply            # e.g. before caching .gamelayer/ in CI', 'gamelayer gc --keep 2 --tag 1.4.0 --apply'],
  index: ['gamelayer build --platform linux/arm64 --tag 1.4.2 --push 127.0.0.1:5000/studio/game   # on each platform\'s host', 'gamelayer index 127.0.0.1:5000/studio/game --tag 1.4.2                                  # then once'],
  prune: ['gamelayer prune 127.0.0.1:5000/studio/game --keep 5             # dry run', 'gamelayer prune 123456789012.dkr.ecr.eu-west-1.amazonaws.com/game --keep 10 --apply', 'gamelayer prune 127.0.0.1:5000/studio/game --keep 5 --keep-deployed deployed/game.yaml --tag v41 --apply   # also keep what is deployed', 'gamelayer prune 123456789012.dkr.ecr.eu-west-1.amazonaws.com/game --lifecycle-policy apply'],
  sbom: ['gamelayer sbom 127.0.0.1:5000/studio/game:1.4.2 --key cosign.pub > game-1.4.2.cdx.json', 'gamelayer sbom 127.0.0.1:5000/studio/game:1.4.2 -o sbom.json'],
  sign: ['gamelayer sign 127.0.0.1:5000/studio/game:1.4.2 --key cosign.key', 'gamelayer sign 123456789012.dkr.ecr.eu-west-1.amazonaws.com/game:1.4.2 --key awskms:///arn:aws:kms:eu-west-1:123456789012:key/…'],
  verify: ['gamelayer verify 127.0.0.1:5000/studio/game:1.4.2 --key cosign.pub --require-sbom'],
  completion: ['gamelayer completion bash > /etc/bash_completion.d/gamelayer', 'gamelayer completion zsh > "${fpath[1]}/_gamelayer"'],
};

/** The examples of a command path such as `codebuild start`; undefined when there are none. */
export function examplesFor(path: string): string[] | undefined {
  return EXAMPLES[path];
}

/** Adds an "Examples:" section to the help of every command that has examples. */
export function addExamples(program: Command, prefix = ''): void {
  for (const c of program.commands) {
    const path = `${prefix}${c.name()}`;
    const ex = EXAMPLES[path];
    if (ex) c.addHelpText('after', `\nExamples:\n${ex.map((e) => `  ${e}`).join('\n')}`);
    addExamples(c, `${path} `);
  }
}
