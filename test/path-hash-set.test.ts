// The set a base layer's paths are checked in (a path named twice): a million paths, held as hashes.
import { describe, expect, it } from 'vitest';
import { PathHashSet } from '../src/util/path-hash-set.js';

describe('PathHashSet', () => {
  it('takes a million distinct paths once each and knows each again', () => {
    const set = new PathHashSet();
    const p = (i: number) => `usr/share/game/levels/${i % 977}/asset-${i}.pak`;
    let added = 0;
    for (let i = 0; i < 1_000_000; i++) if (set.add(p(i))) added++;
    expect(added).toBe(1_000_000);
    let again = 0;
    for (let i = 0; i < 1_000_000; i += 1009) if (!set.add(p(i))) again++;
    expect(again).toBe(Math.ceil(1_000_000 / 1009));
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
  });
});
