// A path of blanks only (a quoted YAML string keeps them): `store: " "` made a folder named " " in the game folder
// and built the store into it; a tree source of blanks was looked for as a folder of that name.
import { describe, expect, it } from 'vitest';
import { FOUR_TREES, configErrorOf } from './support/config-errors.js';

describe('a config path of blanks only', () => {
  it.each([
    [`game: g\nstart: /s\nstore: " "\n${FOUR_TREES}`, '3:8: store: is only blanks: expected a path'],
    [`game: g\nstart: /s\nstore: "\\t "\n${FOUR_TREES}`, '3:8: store: is only blanks: expected a path'],
    [`game: g\nstart: /s\n${FOUR_TREES.replace('source: a}', 'source: "  "}')}`, '6:17: trees.app.source: is only blanks: expected a path'],
  ])('%s', (text, message) => {
    expect(configErrorOf(text)).toBe(`/games/g/gamelayer.yaml:${message}`);
  });
});
