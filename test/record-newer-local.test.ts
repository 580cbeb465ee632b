// A local build record written by a newer gamelayer (a later schemaVersion: a teammate's newer CLI on a shared
// folder, a downgrade) is not damaged. The old code called it "not a gamelayer scan or build record" and told the
// user to delete it; every command that reads it now says which version wrote it and leaves the file alone.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('a local build record from a newer gamelayer', () => {
  it('ls, inspect, gc, k8s --record and push name the version and leave the record as it is', async () => {
    const dir = await tempDir('gl-record-newer-');
    await writeTinyGame(dir, ['game: newer', 'start: [/opt/local/engine/run]']);
    const built = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const file = path.join(dir, '.gamelayer', 'records', 'build-v1.json');
    const record = JSON.parse(await readFile(file, 'utf8')) as { schemaVersion: number };
    record.schemaVersion = 2;
    const bytes = JSON.stringify(record);
    await writeFile(file, bytes);

    const expected = `error[record.invalid]: ${file}: the record has schemaVersion 2, written by a newer gamelayer (this one reads 1)`;
    const commands = [
      ['ls'],
      ['inspect', 'v1'],
      ['gc', '--apply'],
      ['k8s', '--local', '--repository', '127.0.0.1:5000/newer', '--record', file],
      ['push', '127.0.0.1:9/newer:v1'],
    ];
    for (const args of commands) {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toContain(expected);
      expect(r.stderr, args.join(' ')).toContain('hint: upgrade gamelayer on this machine');
      expect(r.stderr, args.join(' ')).not.toContain('delete it');
    }
    expect(await readFile(file, 'utf8')).toBe(bytes);
  });
});
