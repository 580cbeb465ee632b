// Tags are case-sensitive, the file systems of macOS and Windows are not: `v1` and `V1` wrote the one record file
// `records/build-v1.json` there, and one build's record was lost. Record names now encode upper case
// (`build-~v1.json`); records written under the old names are still read, and the next build of their tag renames them.
import { execFileSync } from 'node:child_process';
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const cli = (dir: string, args: string[]) => execFileSync(path.resolve('bin/gamelayer.js'), args, { cwd: dir, env: { ...process.env, CODEBUILD_BUILD_ID: '' } }).toString();
const records = async (dir: string) => (await readdir(path.join(dir, '.gamelayer/records'))).filter((n) => n.startsWith('build-') && n !== 'build-last.json').sort();
const builds = (dir: string) => (JSON.parse(cli(dir, ['ls', '--json'])) as { builds: { tag: string; file: string }[] }).builds.map((b) => b.tag).sort();

describe('build records of tags that differ only in case', () => {
  it('keeps both, under names that differ in lower case too, and ls lists them apart', async () => {
    const dir = await tempDir();
    copySample(dir);
    cli(dir, ['build', '--tag', 'v1']);
    cli(dir, ['build', '--tag', 'V1']);
    const names = await records(dir);
    expect(names).toHaveLength(2);
    // What a case-insensitive file system sees: still two files.
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(2);
    expect(builds(dir)).toEqual(['V1', 'v1']);
    expect(JSON.parse(cli(dir, ['inspect', 'V1', '--json'])).tags[0]).toBe('V1');
    expect(JSON.parse(cli(dir, ['inspect', 'v1', '--json'])).tags[0]).toBe('v1');
  });

  it('reads a record under its old name, and the next build of its tag renames it', async () => {
    const dir = await tempDir();
    copySample(dir);
    cli(dir, ['build', '--tag', 'Old2']);
    // The store of an older gamelayer: the record under the tag as it is.
    const [name] = await records(dir);
    await rename(path.join(dir, '.gamelayer/records', name!), path.join(dir, '.gamelayer/records/build-Old2.json'));
    expect(builds(dir)).toEqual(['Old2']);
    expect(JSON.parse(cli(dir, ['inspect', 'Old2', '--json'])).tags[0]).toBe('Old2');
    cli(dir, ['build', '--tag', 'Old2']);
    expect(await records(dir)).toEqual([name]);
    expect(name!.toLowerCase()).not.toBe('build-old2.json');
    expect(builds(dir)).toEqual(['Old2']);
  });
});
