// Config values of the right type but out of range or not one of the choices: the message says what is allowed in
// the words docs/config.md uses, and what was given (it printed zod's own "Too small: expected number to be >=4" and
// 'Invalid option: expected one of "gzip"|"zstd"').
import { describe, expect, it } from 'vitest';
import { CONFIG_FILE, FOUR_TREES, configErrorOf } from './support/config-errors.js';

describe('config range and choice messages', () => {
  it.each([
    ['layers: {maxLayers: 3}', 'layers.maxLayers: expected a whole number from 4 to 120 (layers of one image, base layers included), got number 3'],
    ['layers: {maxLayers: 500}', 'layers.maxLayers: expected a whole number from 4 to 120 (layers of one image, base layers included), got number 500'],
    ['layers: {maxLayers: 4.5}', 'layers.maxLayers: expected a whole number, got number 4.5'],
    ['layers: {compression: brotli}', 'layers.compression: expected gzip or zstd, got string "brotli"'],
    ['version: ""', 'version: expected a non-empty string, got string ""'],
    ['store: ""', 'store: expected a non-empty path, got string ""'],
    // zod's own words ("Too small: expected array to have >=1 items") for empty lists and strings:
    ['platforms: []', 'platforms: expected at least one platform, such as linux/amd64'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`game: g\nstart: /s\n${line}\n${FOUR_TREES}`);
    expect(got.startsWith(`${CONFIG_FILE}:3:`)).toBe(true);
    expect(got.replace(/^[^ ]+:3:\d+: /, '')).toBe(message);
  });

  it.each([
    ['start: []', 'start: expected the engine start command: at least one word'],
    ['start: ["/s", ""]', 'start.1: expected a non-empty string, got string ""'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`game: g\n${line}\n${FOUR_TREES}`);
    expect(got.replace(/^[^ ]+:2:\d+: /, '')).toBe(message);
  });

  it.each([
    ['{source: ""}', 'trees.engine.source: expected a non-empty path, got string ""'],
    ['{source: {linux/amd64: ""}}', 'trees.engine.source.linux/amd64: expected a non-empty path, got string ""'],
  ])('engine: %s', (tree, message) => {
    const got = configErrorOf(`game: g\nstart: /s\n${FOUR_TREES.replace('{source: e}', tree)}`);
    expect(got.replace(/^[^ ]+:\d+:\d+: /, '')).toBe(message);
  });
});
