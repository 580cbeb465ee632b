// The CycloneDX 1.6 JSON schema's validators: ajv set up as the CycloneDX library's own JsonStrictValidator, less
// `uniqueItems` (cyclonedx.ts checks that in linear time). Compiling the schema costs ajv about 250 ms of CPU, paid
// by every command that makes or reads an SBOM; so scripts/build-dist.mjs compiles it once, with this same set-up,
// into dist/sbom/cyclonedx-validators.cjs (ajv's standalone code), and a command loads that (about 50 ms) when it is
// there. Run from the TypeScript sources (no such file beside them), the schema is compiled here.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Ajv, type CodeOptions, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The format plugins the library's own validator uses (CommonJS, loaded as it loads them).
const require = createRequire(import.meta.url);

export interface SbomValidators {
  /** A whole document. */
  bom: ValidateFunction;
  /** One component (what sbom-read.ts checks each file's against). */
  component: ValidateFunction;
}

/** The file build-dist writes, named from dist/sbom/ or dist/cli-bundle/ alike (one folder below dist/). */
export const PRECOMPILED_FILE = 'cyclonedx-validators.cjs';
const precompiledPath = () => fileURLToPath(new URL(`../sbom/${PRECOMPILED_FILE}`, import.meta.url));

/**
 * The schema added to a new ajv (`code`: ajv's code options, for build-dist's standalone output); returns it with
 * the keys of the two validators.
 */
export async function cycloneDxAjv(code?: CodeOptions): Promise<{ ajv: Ajv; keys: { bom: string; component: string } }> {
  const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
  const addFormats2019 = require('ajv-formats-draft2019') as (ajv: Ajv, opts: { formats: string[] }) => Ajv;
  const dir = path.join(path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  const read = async (f: string) => withoutUniqueItems(JSON.parse(await readFile(path.join(dir, f), 'utf8'))) as Record<string, unknown>;
  const [schema, spdx, crypto, jsf] = await Promise.all(
    ['bom-1.6.SNAPSHOT.schema.json', 'spdx.SNAPSHOT.schema.json', 'cryptography-defs.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json'].map(read),
  );
  const ajv = new Ajv({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    loadSchema: (uri: string) => Promise.reject(new Error(`remote schemas are disabled: ${uri}`)),
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': spdx,
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': crypto,
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': jsf,
    },
    ...(code ? { code } : {}),
  });
  addFormats(ajv);
  addFormats2019(ajv, { formats: ['idn-email'] });
  ajv.addFormat('iri-reference', true);
  ajv.addSchema(schema!);
  const id = schema!.$id as string;
  return { ajv, keys: { bom: id, component: `${id}#/definitions/component` } };
}

/** The validators compiled by ajv now. */
export async function compileSbomValidators(): Promise<SbomValidators> {
  const { ajv, keys } = await cycloneDxAjv();
  return { bom: ajv.getSchema(keys.bom)!, component: ajv.getSchema(keys.component)! };
}

/** The validators build-dist compiled, when the file is there (compiled code); undefined from the sources. */
export function precompiledSbomValidators(file = precompiledPath()): SbomValidators | undefined {
  if (!existsSync(file)) return undefined;
  const loaded = require(file) as Partial<SbomValidators>;
  if (typeof loaded.bom !== 'function' || typeof loaded.component !== 'function') throw new Error(`${file}: not the SBOM validators build-dist writes`);
  return loaded as SbomValidators;
}

/** The schema with every `uniqueItems` keyword removed (checked by validateSbom instead; see there). */
function withoutUniqueItems(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutUniqueItems);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'uniqueItems').map(([k, v]) => [k, withoutUniqueItems(v)]));
}
