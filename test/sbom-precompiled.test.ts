// The CycloneDX validators build-dist compiles into dist/sbom/cyclonedx-validators.cjs (ajv standalone code, so a
// command does not compile the schema each run) judge as the schema compiled from the sources does: the same verdict
// and the same errors on documents that break the schema in each way an SBOM can (a required field, an enum, a
// pattern, each format the set-up adds, the referenced SPDX and crypto schemas, a nested component). A file there
// that is not the validators is an error naming it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { SBOM_SPEC } from '../src/sbom/cyclonedx.js';
import { compileSbomValidators, PRECOMPILED_FILE, precompiledSbomValidators } from '../src/sbom/cyclonedx-schema.js';
import { tempDir } from './support/tmp.js';

type Doc = Record<string, unknown>;
const file = (name: string, extra: Doc = {}) => ({ type: 'file', name, 'bom-ref': `file:${name}`, hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }], ...extra });
const doc = (extra: Doc = {}, files: unknown[] = [file('a.dat')]): Doc => ({
  bomFormat: 'CycloneDX',
  specVersion: '1.6',
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  version: 1,
  metadata: { timestamp: '2026-12-07T00:00:00Z', authors: [{ name: 'dev', email: 'dev@example.com' }], component: { type: 'container', name: 'game', 'bom-ref': 'game' } },
  components: [{ type: 'application', name: 'app', 'bom-ref': 'tree:app', components: files }],
  ...extra,
});

const cases: [string, unknown][] = [
  ['valid', doc()],
  ['valid, licenses and external references', doc({}, [file('b', { licenses: [{ license: { id: 'MIT' } }], externalReferences: [{ type: 'website', url: 'https://example.com/x' }] })])],
  ['no specVersion', { bomFormat: 'CycloneDX' }],
  ['an unknown field', doc({ nope: 1 })],
  ['a component type not in the enum', doc({}, [file('b', { type: 'gadget' })])],
  ['a hash that is not hex', doc({}, [{ ...file('b'), hashes: [{ alg: 'SHA-256', content: 'xyz' }] }])],
  ['a serial number not a urn:uuid', doc({ serialNumber: 'abc' })],
  ['a timestamp not a date-time', doc({ metadata: { timestamp: 'yesterday' } })],
  ['an e-mail not an idn-email', doc({ metadata: { authors: [{ name: 'a', email: 'not an email' }] } })],
  ['an unknown SPDX licence id', doc({}, [file('b', { licenses: [{ license: { id: 'Not-A-Licence' } }] })])],
  ['a url not an iri-reference (accepted: the set-up does not check it)', doc({}, [file('b', { externalReferences: [{ type: 'website', url: ':: not a url' }] })])],
  ['a crypto asset of an unknown algorithm primitive', doc({}, [file('b', { type: 'cryptographic-asset', cryptoProperties: { assetType: 'algorithm', algorithmProperties: { primitive: 'nope' } } })])],
  ['a bad component deep in a nested list', doc({}, [file('a'), { ...file('d'), components: [file('e', { type: 7 })] }])],
];

describe('the precompiled CycloneDX validators', () => {
  it('judge every document as the schema compiled from the sources does, errors and all', async () => {
    const pre = precompiledSbomValidators(path.resolve('dist/sbom', PRECOMPILED_FILE));
    expect(pre, 'build-dist writes dist/sbom/cyclonedx-validators.cjs').toBeDefined();
    const compiled = await compileSbomValidators();
    const verdicts: boolean[] = [];
    for (const [name, d] of cases) {
      for (const which of ['bom', 'component'] as const) {
        const subject = which === 'bom' ? d : ((d as { components?: { components?: unknown[] }[] }).components?.[0]?.components?.at(-1) ?? d);
        const a = pre![which](subject);
        const b = compiled[which](subject);
        expect([name, which, a, pre![which].errors ?? null]).toEqual([name, which, b, compiled[which].errors ?? null]);
        if (which === 'bom') verdicts.push(a);
      }
    }
    // The cases cover both verdicts: the valid ones pass, each break fails.
    expect(verdicts).toEqual(cases.map(([name]) => name.startsWith('valid') || name.includes('(accepted')));
  });

  it("check the spec version the library writes (SBOM_SPEC, written out so a check need not load the library)", () => {
    expect(SBOM_SPEC).toBe(CDX.Spec.Version.v1dot6);
  });

  it('a file there that is not the validators is an error naming it', async () => {
    const f = path.join(await tempDir(), PRECOMPILED_FILE);
    await writeFile(f, 'exports.bom = 1;\n');
    expect(() => precompiledSbomValidators(f)).toThrow(`${f}: not the SBOM validators build-dist writes`);
    expect(precompiledSbomValidators(path.join(path.dirname(f), 'absent.cjs'))).toBeUndefined();
  });
});
