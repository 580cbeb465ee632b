// `gamelayer init` writes the layout it found and its guesses as comment lines, naming the build folder's files. A
// second Unreal project folder named `Z\nversion: 6.6.6 #` (a name init only mentions, in a note) ended its comment
// line, and the next line was a `version:` of the config: the config init wrote and checked said version 6.6.6.
// Each comment stays one line now, the line break written as `\u000a`.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('init on a build folder whose names hold line breaks', () => {
  it('the notes naming them stay comments: no key of the config comes from a name', async () => {
    const dir = await tempDir('gl-init-names-');
    const odd = 'Z\nversion: 6.6.6 #\u2028deploy: {}';
    await mkdir(path.join(dir, 'Engine'), { recursive: true });
    for (const project of ['A', odd]) await mkdir(path.join(dir, project, 'Binaries', 'Linux'), { recursive: true });
    await writeFile(path.join(dir, 'A', 'Binaries', 'Linux', 'AServer'), '#!/bin/sh\n');
    await chmod(path.join(dir, 'A', 'Binaries', 'Linux', 'AServer'), 0o755);
    const r = await runCli(['init', dir], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(text).toContain('#   - several projects (A, Z\\u000aversion: 6.6.6 #\\u2028deploy: {}); took A: edit trees.app if that is wrong\n');
    const config = parse(text) as Record<string, unknown>;
    expect(config.version).toBeUndefined();
    expect(Object.keys(config)).toEqual(['game', 'baseImage', 'start', 'platforms', 'trees']);
  });
});
