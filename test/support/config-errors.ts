import { expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { GamelayerError } from '../../src/errors.js';

/** Where the config tests' text claims to come from (errors name it). */
export const CONFIG_FILE = '/games/g/gamelayer.yaml';
/** The four trees, for a config whose other lines are under test. */
export const FOUR_TREES = 'trees:\n  engine: {source: e}\n  engine-media: {source: em}\n  app: {source: a}\n  app-media: {source: am}\n';

/** The message of the GamelayerError that refuses the config `text`; fails the test if it loads. */
export function configErrorOf(text: string): string {
  try {
    parseConfig(text, CONFIG_FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(GamelayerError);
    return (e as GamelayerError).message;
  }
  throw new Error('expected the config to be refused');
}
