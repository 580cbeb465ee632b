// `ecs --out DIR` replaced an ecs-task-definition.json of the user's own without a word, while `k8s`, `dockerfile`
// and `codebuild --out` refuse a file gamelayer did not write (cli.out-exists) unless --force. A task definition is
// JSON (no header comment): gamelayer's own carries the tag `gamelayer.game`, and only such a file (or an empty one)
// is replaced.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const ECS = ['ecs', '--local', '--repository', '127.0.0.1:9/studio/game', '--out', 'deploy'];
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-ecs-foreign-');
  await writeGame(dir);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
}, 60_000);

describe('ecs --out over a task definition of the user\'s own', () => {
  it('is refused (cli.out-exists, exit 2) and kept; its own earlier output is replaced; --force replaces anything', async () => {
    const file = path.join(dir, 'deploy', 'ecs-task-definition.json');
    await mkdir(path.join(dir, 'deploy'));
    const mine = `${JSON.stringify({ family: 'hand-made', containerDefinitions: [{ name: 'web', image: 'nginx' }], tags: [{ key: 'team', value: 'ops' }] }, null, 2)}\n`;
    await writeFile(file, mine);
    const r = await runCli(ECS, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error[cli.out-exists]: ${file}: exists and was not written by gamelayer (no "gamelayer.game" tag); writing there would replace it\n` +
        'hint: write elsewhere (--out), move the file away, or pass --force to replace it\n',
    );
    expect(await readFile(file, 'utf8')).toBe(mine);

    const forced = await runCli([...ECS, '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    const ours = await readFile(file, 'utf8');
    expect(ours).toContain('"gamelayer.game"');
    // gamelayer's own output (here with a field edited by hand) is replaced without --force.
    await writeFile(file, ours.replace(/"cpu": "\d+"/, '"cpu": "4096"'));
    const again = await runCli(ECS, { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(ours);
  });

  // Two families into one folder (--family eu, then --family us): both are ecs-task-definition.json, and the second
  // replaced the first without a word. Now it is refused unless --force; the same family is replaced as every day.
  it('refuses to write one family over the task definition of another it wrote, unless --force', async () => {
    const out = ['ecs', '--local', '--repository', '127.0.0.1:9/studio/game', '--out', 'families'];
    const file = path.join(dir, 'families', 'ecs-task-definition.json');
    expect((await runCli([...out, '--family', 'eu'], { cwd: dir })).code).toBe(0);
    const eu = await readFile(file, 'utf8');
    expect((await runCli([...out, '--family', 'eu'], { cwd: dir })).code).toBe(0);
    const us = await runCli([...out, '--family', 'us'], { cwd: dir });
    expect(us.code).toBe(2);
    expect(us.stderr).toContain(
      `error[cli.out-exists]: ${file}: is the task definition of family eu, and this one is family us; writing it there would drop eu's\n` +
        'hint: give each family its own folder (--out DIR/<family>), or pass --force to replace it\n',
    );
    expect(await readFile(file, 'utf8')).toBe(eu);
    expect((await runCli([...out, '--family', 'us', '--force'], { cwd: dir })).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).family).toBe('us');
  });
});
