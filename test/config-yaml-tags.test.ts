// YAML's own kinds beyond strings, numbers, booleans, null, lists and maps, and tags of no schema, are named as
// what they are, at the field that holds them: `version: !!binary …` was "expected a string, got a map" (the value a
// Buffer), and `version: !foo bar` was read as the string "bar" with the tag dropped.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { parseConfig } from '../src/config/load.js';
import { CONFIG_FILE, FOUR_TREES, configErrorOf } from './support/config-errors.js';
import { tempDir } from './support/tmp.js';

const PLAIN = 'expected a plain string, number, true/false, list or map';

describe('config YAML tags', () => {
  it.each([
    ['version: !!binary aGVsbG8=', 'version: a binary value (!!binary: bytes written in base64)'],
    ['version: !!timestamp 2001-12-14', 'version: a timestamp (!!timestamp)'],
    ['version: !!set {a, b}', 'version: a set (!!set)'],
    ['version: !!omap [{a: 1}]', 'version: an ordered map (!!omap)'],
    ['version: !!pairs [{a: 1}]', 'version: a list of pairs (!!pairs)'],
    ['version: !foo bar', 'version: a value with the tag !foo, which gamelayer.yaml does not read'],
    ['version: !foo {a: 1}', 'version: a map with the tag !foo, which gamelayer.yaml does not read'],
    ['version: !!float 1', 'version: "1" tagged !!float, which it is not'],
    ['layers: {maxLayers: !!int x}', 'layers.maxLayers: "x" tagged !!int, which it is not'],
    ['platforms: [linux/amd64, !!binary aGVsbG8=]', 'platforms.1: a binary value (!!binary: bytes written in base64)'],
    ['? !!binary aGVsbG8=\n: x', 'a key of the top level: a binary value (!!binary: bytes written in base64)'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`game: g\n${line}\nstart: /s\n${FOUR_TREES}`);
    expect(got.replace(/^[^ ]+:\d+:\d+: /, '')).toBe(`${message}; ${PLAIN}`);
  });

  it('an unquoted date under %YAML 1.1 is named a timestamp', () => {
    const got = configErrorOf(`%YAML 1.1\n---\ngame: g\nversion: 2001-12-14\nstart: /s\n${FOUR_TREES}`);
    expect(got).toBe(`/games/g/gamelayer.yaml:4:10: version: a timestamp (2001-12-14, read as one under %YAML 1.1); ${PLAIN}`);
  });

  it('plain core tags and the non-specific tag are read as before', () => {
    const config = parseConfig(`game: !!str g\nversion: ! 1.0\nstart: !!seq [/s]\nlayers: {maxLayers: !!int 10}\n${FOUR_TREES}`, CONFIG_FILE);
    expect([config.game, config.version, config.start, config.layers.maxLayers]).toEqual(['g', '1.0', ['/s'], 10]);
  });

  it('scan through the CLI names the field and the binary value, at its line', async () => {
    const dir = await tempDir('gl-yaml-tags-');
    for (const t of ['e', 'em', 'a', 'am']) await mkdir(path.join(dir, t));
    await writeFile(path.join(dir, 'gamelayer.yaml'), `game: g\nversion: !!binary aGVsbG8=\nstart: /s\n${FOUR_TREES}`);
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:2:19: version: a binary value (!!binary: bytes written in base64); ${PLAIN}`);
    expect(r.stderr).not.toContain('a map');
  });
});
