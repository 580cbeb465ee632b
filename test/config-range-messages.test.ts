// Config values of the right type but out of range or not one of the choices: the message says what is allowed in
// the words docs/config.md uses, and what was given (it printed zod's own "Too small: expected number to be >=4" and
// 'Invalid option: expected one of "gzip"|"zstd"').
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';

const FILE = '/games/g/gamelayer.yaml';
const TREES = 'trees:\n  engine: {source: e}\n  engine-media: {source: em}\n  app: {source: a}\n  app-media: {source: am}\n';

function errorOf(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(GamelayerError);
    return (e as GamelayerError).message;
  }
  throw new Error('expected the config to be refused');
}

describe('config range and choice messages', () => {
  it.each([
    ['layers: {maxLayers: 3}', 'layers.maxLayers: expected a whole number from 4 to 120 (layers of one image, base layers included), got number 3'],
    ['layers: {maxLayers: 500}', 'layers.maxLayers: expected a whole number from 4 to 120 (layers of one image, base layers included), got number 500'],
    ['layers: {maxLayers: 4.5}', 'layers.maxLayers: expected a whole number, got number 4.5'],
    ['layers: {compression: brotli}', 'layers.compression: expected gzip or zstd, got string "brotli"'],
    ['version: ""', 'version: expected a non-empty string, got string ""'],
    ['store: ""', 'store: expected a non-empty path, got string ""'],
  ])('%s', (line, message) => {
    const got = errorOf(`game: g\nstart: /s\n${line}\n${TREES}`);
    expect(got.startsWith(`${FILE}:3:`)).toBe(true);
    expect(got.replace(/^[^ ]+:3:\d+: /, '')).toBe(message);
  });
});
