// A fetched SBOM checked a piece at a time from its file (src/sbom/sbom-read.ts) accepts and refuses what the check
// of the whole document (validateSbom) does: a bad file component deep in a long list, a bom-ref twice (in one list,
// across lists, between a list and the rest), lists not in byte order (checked whole), items across read boundaries.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateSbom } from '../src/sbom/cyclonedx.js';
import { checkSbomFile } from '../src/sbom/sbom-read.js';
import { tempDir } from './support/tmp.js';

type Doc = Record<string, unknown>;
const file = (tree: string, p: string, hash = 'a'.repeat(64)) => ({ type: 'file', name: p, 'bom-ref': `file:${tree}:${p}`, hashes: [{ alg: 'SHA-256', content: hash }] });

function doc(lists: Record<string, unknown[]>, extra: Doc = {}): Doc {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: { component: { type: 'container', name: 'g', 'bom-ref': 'game' } },
    components: Object.entries(lists).map(([t, files]) => ({ type: 'application', name: t, 'bom-ref': `tree:${t}`, components: files })),
    ...extra,
  };
}

/** Both checks' outcome on `d`: 'ok' or the error's code and message. */
async function outcomes(d: Doc | string): Promise<[string, string]> {
  const text = typeof d === 'string' ? d : JSON.stringify(d);
  const f = path.join(await tempDir(), 'sbom.json');
  await writeFile(f, text);
  const of = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => `${e.code}`);
  return [await of(checkSbomFile(f, 'x')), await of(validateSbom(text, 'x'))];
}

describe('an SBOM checked from its file a piece at a time', () => {
  // Names of 1-3 byte characters, enough of them that items and characters straddle the 64 KiB reads.
  const many = Array.from({ length: 3000 }, (_, i) => `${String(i).padStart(5, '0')}-${'é中'.repeat(i % 13)}.dat`);

  it('accepts what the whole check accepts and returns the document around the lists', async () => {
    const d = doc({ app: many.map((p) => file('app', p)), media: [file('media', 'a')], empty: [] });
    expect(await outcomes(d)).toEqual(['ok', 'ok']);
    const f = path.join(await tempDir(), 'sbom.json');
    await writeFile(f, JSON.stringify(d));
    const skeleton = (await checkSbomFile(f, 'x')) as { metadata: unknown; components: { components: unknown[] }[] };
    expect(skeleton.metadata).toEqual(d.metadata);
    expect(skeleton.components.map((c) => c.components.length)).toEqual([0, 0, 0]);
    // Out of byte order (not gamelayer's): checked whole, still accepted.
    expect(await outcomes(doc({ app: [...many].reverse().map((p) => file('app', p)) }))).toEqual(['ok', 'ok']);
  });

  it('refuses what the whole check refuses', async () => {
    const bad = many.map((p) => file('app', p));
    bad[2500] = file('app', many[2500]!, 'nothex');
    expect(await outcomes(doc({ app: bad }))).toEqual(['sbom.invalid', 'sbom.invalid']);
    const twice = many.map((p) => file('app', p));
    twice[1001] = twice[1000]!;
    expect(await outcomes(doc({ app: twice }))).toEqual(['sbom.invalid', 'sbom.invalid']);
    // The same bom-ref in two lists, and in a list and outside the lists.
    expect(await outcomes(doc({ a: [file('x', 'p'), file('x', 'q')], b: [file('x', 'q')] }))).toEqual(['sbom.invalid', 'sbom.invalid']);
    expect(await outcomes(doc({ a: [file('x', 'p'), file('x', 'q')] }, { metadata: { component: { type: 'container', name: 'g', 'bom-ref': 'file:x:p' } } }))).toEqual([
      'sbom.invalid',
      'sbom.invalid',
    ]);
    // An item that is not an object.
    expect(await outcomes(doc({ app: [file('app', 'a'), 'b'] }))).toEqual(['sbom.invalid', 'sbom.invalid']);
    expect(await outcomes(doc({ app: [file('app', 'a'), [file('app', 'b')]] }))).toEqual(['sbom.invalid', 'sbom.invalid']);
    // Not JSON: cut inside a list, and a stray byte after the document.
    const text = JSON.stringify(doc({ app: many.map((p) => file('app', p)) }));
    expect(await outcomes(text.slice(0, 100_000))).toEqual(['sbom.invalid', 'sbom.invalid']);
    expect(await outcomes(`${text}x`)).toEqual(['sbom.invalid', 'sbom.invalid']);
  });
});
