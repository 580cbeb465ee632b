// A file name holding a newline (or another control character) is one line of `gamelayer diff`'s list, quoted as
// git quotes it; it used to split its line in two, so a script reading "+ path" lines saw a path that is not there.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');

describe('gamelayer diff with control characters in names', () => {
  it('quotes such a path on its one line; plain names stay as they are', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    await run(BIN, ['scan'], { cwd: dir, env: { ...process.env, CI: 'true' } });
    await writeFile(path.join(dir, 'app/evil\n  - game.xml'), 'x');
    await writeFile(path.join(dir, 'app/tab\there.cfg'), 'y');
    await writeFile(path.join(dir, 'app/plain name é.cfg'), 'z');
    // U+009B is a C1 CSI (a terminal reads "[2J" after it as clear-screen); JSON.stringify leaves it as it is.
    await writeFile(path.join(dir, 'app/wipe\u009b2J.cfg'), 'w');
    const text = (await run(BIN, ['diff'], { cwd: dir, env: { ...process.env, CI: 'true' } })).stdout;
    const list = text.slice(text.indexOf('\napp:\n') + 1).split('\n\n')[0]!.trimEnd().split('\n');
    expect(list).toEqual(['app:', '  + "evil\\n  - game.xml" (1 B)', '  + plain name é.cfg (1 B)', '  + "tab\\there.cfg" (1 B)', '  + "wipe\\u009b2J.cfg" (1 B)']);
    expect(text).not.toContain('\u009b');
  });
});
