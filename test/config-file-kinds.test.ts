// `-c FILE` naming something that is no config: a character device, a FIFO, a file far bigger than any
// gamelayer.yaml. Each is config.unreadable naming the file, read no further than its size allows (was: /dev/zero
// read until "Invalid string length" at 600 MiB of memory; a FIFO blocked for ever).
import { execFileSync } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_MAX_BYTES } from '../src/config/load.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('-c naming something that is not a config file', () => {
  it('a character device (/dev/zero) is refused by its kind, not read', async () => {
    const dir = await tempDir();
    const r = await runCli(['scan', '-c', '/dev/zero'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error[config.unreadable]: /dev/zero: is a character device, not a config file\n' +
        'hint: write the config to a file and pass that: relative paths in it start at its folder\n',
    );
  });

  it('a FIFO with no writer is refused at once rather than waited on', async () => {
    const dir = await tempDir();
    const fifo = path.join(dir, 'gamelayer.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[config\.unreadable\]: .*\/gamelayer\.yaml: is a FIFO, not a config file\n/);
  });

  it('a regular file bigger than any config (a pak passed by mistake) is refused from its size', async () => {
    const dir = await tempDir();
    const pak = path.join(dir, 'gamedata.pak');
    await writeFile(pak, 'game: g\n');
    await truncate(pak, CONFIG_MAX_BYTES + 1);
    const r = await runCli(['scan', '-c', pak], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[config.unreadable]: ${pak}: ${CONFIG_MAX_BYTES + 1} bytes, more than a config file holds (at most ${CONFIG_MAX_BYTES})\n` +
        'hint: is it the config? pass your gamelayer.yaml with --config FILE\n',
    );
  });

  it('a config of the largest size allowed is still read (and its errors named by line)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'gamelayer.yaml');
    const head = 'game: g\nstart: /x\nversion: [1]\n';
    await writeFile(file, head + '#'.repeat(CONFIG_MAX_BYTES - head.length - 1) + '\n');
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:3:10: version: expected a string, got a list`);
  });
});
