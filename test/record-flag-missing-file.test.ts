// `k8s --record builds/v41.json` with a mistyped path (a rollback) said "no build yet, run gamelayer build" — the
// message for .gamelayer/records/build-last.json — and, in a game with no registry in its config, "registry: not
// set". docs/errors.md promised `record.missing` (`<file>: no such record`) for a --record that is not there.
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

let withRegistry: string;
let without: string;
beforeAll(async () => {
  withRegistry = await tempDir('gl-record-missing-');
  await writeTinyGame(withRegistry, ['game: rec-missing', 'start: /opt/local/engine/start.sh', 'registry: 127.0.0.1:9/studio/rec-missing']);
  without = await tempDir('gl-record-missing-noreg-');
  await writeTinyGame(without, ['game: rec-missing', 'start: /opt/local/engine/start.sh']);
});

describe('--record naming a file that is not there', () => {
  it.each([['k8s'], ['ecs'], ['codebuild imagedefinitions'], ['run-local']])('%s: record.missing naming the file', async (name) => {
    const command = name.split(' ');
    for (const dir of [withRegistry, without]) {
      const r = await runCli([...command, '--record', 'builds/v41.json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(`error[record.missing]: ${path.join(dir, 'builds/v41.json')}: no such record`);
      expect(r.stderr).toMatch(/^hint: --record takes a build record \(\.gamelayer\/records\/build-<tag>\.json\).*; check the path$/m);
    }
  });
});
