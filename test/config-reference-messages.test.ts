// `registry:` and `baseImage:` that are not references say what is wrong with them: a repository path in upper
// case (Studio/Game), a URL scheme (https://), a tag where a repository is expected. The message was the same
// "expected an image reference such as …" for all, which a user with `registry: 127.0.0.1:5000/Studio/Game` cannot
// act on (the CLI's own reference parser already said "must be lower-case").
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { CONFIG_FILE, FOUR_TREES, configErrorOf } from './support/config-errors.js';

describe('config image reference messages', () => {
  it.each([
    ['registry: 127.0.0.1:5000/Studio/Game', 'registry: the repository path "Studio/Game" must be lower case (127.0.0.1:5000/studio/game)'],
    ['registry: https://registry.example.com/game', 'registry: no URL scheme: write host[:port]/repository, such as registry.example.com/game'],
    ['baseImage: Debian:bookworm', 'baseImage: the repository path "Debian" must be lower case (debian:bookworm)'],
    ['registry: "127.0.0.1:5000/studio game"', 'registry: expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/game or localhost:5000/game'],
  ])('%s', (line, message) => {
    const got = configErrorOf(`game: g\nstart: /s\n${line}\n${FOUR_TREES}`);
    expect(got.startsWith(`${CONFIG_FILE}:3:`)).toBe(true);
    expect(got.replace(/^[^ ]+:3:\d+: /, '')).toBe(message);
  });
  it('valid references still load', () => {
    expect(parseConfig(`game: g\nstart: /s\nregistry: 127.0.0.1:5000/studio/game\nbaseImage: Registry.Example.com:443/base/busybox:1.36\n${FOUR_TREES}`, CONFIG_FILE).registry).toBe('127.0.0.1:5000/studio/game');
  });
});
