// A table cut to the terminal's width keeps both ends of the values it shortens: `ls` of a repository with cosign
// signatures showed "sha256-60464230d4f12ec5…" twice (the referrers tag and its .sig), and the store's
// "latest-engine-m…" lost the tree name.
import { describe, expect, it } from 'vitest';
import { fitTable } from '../src/cli/table.js';

describe('fitTable', () => {
  it('cuts the widest column in the middle: values differing only at their end stay different', () => {
    const hex = '60464230d4f12ec5a7b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f6071';
    const rows = [[`sha256-${hex}`, 'index'], [`sha256-${hex}.sig`, 'image'], ['latest-engine-media', 'image']];
    const text = fitTable(['TAG', 'KIND'], rows, [], { width: 40 });
    const lines = text.split('\n').slice(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    const tags = lines.map((l) => l.split(/\s{2,}/)[0]!);
    expect(new Set(tags).size).toBe(3);
    expect(tags[1]!.endsWith('.sig')).toBe(true);
    expect(tags[0]!.startsWith('sha256-6046')).toBe(true);
    expect(tags[2]).toBe('latest-engine-media');
  });

  it('shares the cut between the columns it may shrink, widest first: no column is cut to nothing', () => {
    const rows = [
      ['1.0.1-hotfix-with-long-name', 'record of 1.0.1-hotfix-with-long-name (line default)', '2a7437fe0ab0', '12.4 KiB'],
      ['1.0.1-hotfix-with-long-name-app-media', 'image', '5dd1ba7287b9', '8.74 MiB'],
    ];
    const text = fitTable(['TAG', 'KIND', 'DIGEST', 'SIZE'], rows, [3], { width: 80, shrink: [0, 1] });
    const lines = text.split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const cells = lines.slice(2).map((l) => l.split(/\s{2,}/));
    // The tag column kept most of its width (it was cut to 6 characters before), both ends readable.
    expect(cells[1]![0]!.length).toBeGreaterThanOrEqual(25);
    expect(cells[1]![0]!.startsWith('1.0.1-hotfix')).toBe(true);
    expect(cells[1]![0]!.endsWith('app-media')).toBe(true);
    expect(cells[0]![2]).toBe('2a7437fe0ab0');
  });

  it('keeps the table as it is when it fits', () => {
    expect(fitTable(['A', 'B'], [['x', 'y']], [], { width: 80 })).toBe('A  B\n-  -\nx  y');
  });
});
