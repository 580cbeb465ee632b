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

  it.each([
    ['? [a, b]\n: 1', '2:3: a key of the top level: a list used as a key'],
    ['~: 1', '2:1: a key of the top level: an empty (null) key (~)'],
    ['layers:\n  : 1', '3:3: a key of layers: an empty (null) key'],
  ])('a key that names no field: %s', (line, message) => {
    // Were "unknown field" with no position (and, for null, no name); a list key also made Node warn on stderr.
    expect(configErrorOf(`game: g\n${line}\nstart: /s\n${FOUR_TREES}`)).toBe(`/games/g/gamelayer.yaml:${message}; expected a field name`);
  });

  describe('a config that is not UTF-8', () => {
    async function scanOf(bytes: Buffer): Promise<{ code: number | null; stderr: string; file: string }> {
      const dir = await tempDir('gl-yaml-utf8-');
      for (const t of ['e', 'em', 'a', 'am']) await mkdir(path.join(dir, t));
      const file = path.join(dir, 'gamelayer.yaml');
      await writeFile(file, bytes);
      const r = await runCli(['scan'], { cwd: dir });
      return { ...r, file };
    }

    it('Latin-1 is refused at its first bad byte (a source path was read as "caf\\uFFFD", a folder that is not there)', async () => {
      const [head, tail] = `game: g\nstart: /s\n${FOUR_TREES}`.split('source: a}') as [string, string];
      const r = await scanOf(Buffer.concat([Buffer.from(`${head}source: caf`), Buffer.from([0xe9]), Buffer.from(`}${tail}`)]));
      expect(r.code).toBe(1);
      // `  app: {source: caf` is 19 characters: the é is column 20 of line 6.
      expect(r.stderr).toContain(`error[config.yaml]: ${r.file}:6:20: not UTF-8 text: byte 0xE9 (byte ${head.length + 'source: caf'.length + 1} of the file) is not valid UTF-8`);
      expect(r.stderr).toContain('hint: save the file as UTF-8 (iconv -f LATIN1 -t UTF-8');
    });

    it('UTF-16 is named as such (was "expected a map, got string" of the whole file)', async () => {
      const text = `game: g\nstart: /s\n${FOUR_TREES}`;
      const r = await scanOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error[config.yaml]: ${r.file}: not UTF-8 text: it starts with a UTF-16 byte order mark`);
      expect(r.stderr).toContain('iconv -f UTF-16 -t UTF-8');
    });

    it('UTF-8 with a byte order mark, and UTF-8 paths, are read as before', () => {
      const config = parseConfig(`\ufeffgame: g\nstart: /s\n${FOUR_TREES.replace('source: a}', 'source: café}')}`, CONFIG_FILE);
      expect(config.trees.app.sources['*']).toBe('/games/g/café');
    });
  });
});
