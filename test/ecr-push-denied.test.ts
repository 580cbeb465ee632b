// A push an ECR repository policy refuses: ECR answers 403 DENIED with a message naming the principal's ARN, the
// action and the repository's ARN before what refused it (`… because no resource-based policy allows the
// ecr:InitiateLayerUpload action`). The message was cut at 300 characters, losing which policy refused, and the hint
// was the generic one; it now keeps the whole message and names the repository, its region, the ECR actions a push
// needs and the repository-policy command. Nothing of the build lands in the repository.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS } from './support/fake-ecr.js';
import { storedManifests } from './support/registry.js';
import { useEcrGame } from './support/ecr-game.js';

const t = useEcrGame('gl-ecr-denied-');
const ROLE = 'arn:aws:sts::123456789012:assumed-role/codebuild-game-service-role/AWSCodeBuild-0b7b8894-2989-4175-b812-673870e3aa1b';

describe('a push an ECR repository policy refuses', () => {
  it('says which policy refused, and which actions on which repository and region a push needs', async () => {
    t.ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    t.ecr.denyPush = ROLE;
    const r = await t.buildPush('studio/game', 'v1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.denied]:`);
    expect(r.stderr).toContain(`${ROLE} is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:fake-region:123456789012:repository/studio/game because no resource-based policy allows the ecr:InitiateLayerUpload action`);
    expect(r.stderr).toContain(
      'hint: the AWS credentials need, on studio/game in eu-west-1, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage: ' +
        "allowed by their IAM policy and not refused by the repository's policy (aws ecr get-repository-policy --repository-name studio/game)",
    );
    expect(r.stdout + r.stderr).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect(await storedManifests(t.ecr.registry.storageDir, 'studio/game')).toEqual([]);
    const record = JSON.parse(await readFile(path.join(t.dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { pushed?: unknown[] };
    expect(record.pushed ?? []).toEqual([]);
  });
});
