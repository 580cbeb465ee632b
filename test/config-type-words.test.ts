// A value of the wrong type is named by what the YAML holds: a list is "a list", a map "a map". The YAML document
// hands back its own nodes for collections (not arrays), and every collection was called "a map": `game: [a]` said
// "got a map", sending the user to look for a colon that is not there.
import { describe, expect, it } from 'vitest';
import { FOUR_TREES, configErrorOf } from './support/config-errors.js';

describe('config type words', () => {
  it.each([
    ['game: [a, b]', 'game: expected a string, got a list'],
    ['game:\n  - a', 'game: expected a string, got a list'],
    ['game: {a: 1}', 'game: expected a string, got a map'],
    ['game: 7', 'game: expected a string, got number 7'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`${line}\nstart: /s\n${FOUR_TREES}`);
    expect(got.replace(/^[^ ]+:\d+:\d+: /, '')).toBe(message);
  });

  it('a list where a map belongs is named a list', () => {
    const got = configErrorOf(`game: g\nstart: /s\ntrees: [engine]\n`);
    expect(got).toContain('trees: expected a map, got a list');
  });
});
