// A value of the wrong type is named by what the YAML holds: a list is "a list", a map "a map". The YAML document
// hands back its own nodes for collections (not arrays), and every collection was called "a map": `game: [a]` said
// "got a map", sending the user to look for a colon that is not there. A number or boolean where a string belongs
// is named as written, with the quotes that make it one.
import { describe, expect, it } from 'vitest';
import { FOUR_TREES, configErrorOf } from './support/config-errors.js';

describe('config type words', () => {
  it.each([
    ['game: [a, b]', 'game: expected a string, got a list'],
    ['game:\n  - a', 'game: expected a string, got a list'],
    ['game: {a: 1}', 'game: expected a string, got a map'],
    ['game: 7', 'game: expected a string, got number 7 (YAML reads 7 as a number: quote it, "7")'],
    // YAML's own reading of the value was shown as if written so ("got number 1.1" of `version: 1.10`): the text as
    // written is named, with the quotes that make it a string.
    ['game: g\nversion: 1.10', 'version: expected a string, got number 1.1 (YAML reads 1.10 as a number: quote it, "1.10")'],
    ['game: g\nversion: 0x1F', 'version: expected a string, got number 31 (YAML reads 0x1F as a number: quote it, "0x1F")'],
    ['game: g\nversion: true', 'version: expected a string, got boolean true (YAML reads true as a boolean: quote it, "true")'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`${line}\nstart: /s\n${FOUR_TREES}`);
    expect(got.replace(/^[^ ]+:\d+:\d+: /, '')).toBe(message);
  });

  it('an env value written as a number: Kubernetes wants a string, and the message says how to write one', () => {
    const got = configErrorOf(`game: g\nstart: /s\n${FOUR_TREES}deploy:\n  env: [{name: PORT, value: 7777}]\n`);
    expect(got.replace(/^[^ ]+:\d+:\d+: /, '')).toBe('deploy.env.0.value: must be string (YAML reads 7777 as a number: quote it, "7777")');
  });

  it('a list where a map belongs is named a list', () => {
    const got = configErrorOf(`game: g\nstart: /s\ntrees: [engine]\n`);
    expect(got).toContain('trees: expected a map, got a list');
  });
});
