// A directory tree's links that form a cycle (`loop -> loop`, `p -> q -> p`) are named as a loop, through the CLI,
// apart from links that really lead outside through another link. Was: every cycle was warned about as "leads
// outside the tree", which sent users looking for a path out of the tree that is not there.
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

describe('symlink cycles in a directory tree', () => {
  it('are warned about as loops, and a chain that leaves is still warned about as leaving', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const app = path.join(dir, 'app');
    await symlink('loop', path.join(app, 'loop'));
    await symlink('q', path.join(app, 'p'));
    await symlink('p', path.join(app, 'q'));
    await symlink('..', path.join(app, 'up'));
    await symlink('up/../etc', path.join(app, 'esc'));
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toEqual([
      `warning: app: 1 symlink in ${app} leads outside the tree: esc -> up/../etc (through up); they are stored as links, and in the image point at whatever lies there`,
      `warning: app: 3 symlinks in ${app} never resolve, a loop of links: loop -> loop (through loop), p -> q (through q), q -> p (through p); ` +
        'they are stored as links, and opening one in the image fails (too many levels of symbolic links)',
    ]);
  });
});

describe('a warning naming a file whose name holds an escape sequence', () => {
  it('shows it escaped (as errors do), never as the bytes a terminal acts on', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    // A link loop's names are echoed by the scan's warning: ESC (C0) and CSI (C1, U+009B) in them.
    await symlink('red\u001b[31m', path.join(dir, 'app', 'wipe\u009b2J'));
    await symlink('wipe\u009b2J', path.join(dir, 'app', 'red\u001b[31m'));
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/[\u001b\u009b]/);
    expect(r.stderr).toContain('red\\u001b[31m -> wipe\\u009b2J (through wipe\\u009b2J)');
  });
});
