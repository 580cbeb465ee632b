// Validates what we write against the OCI image-spec v1.1.1 JSON schemas (draft-04), all loaded into one
// validator. The schemas `$ref` each other by relative file name from two base URIs (…/schema/ and
// …/schema/image/), so the shared files are registered under both.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv-draft-04';

// CommonJS default export seen through nodenext: the class is on `.default`.
const Ajv = AjvModule.default;
type Ajv = InstanceType<typeof Ajv>;

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schemas', 'oci-image-spec-v1.1.1');
const load = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;

/** Drops `id` everywhere: the shared files are registered under explicit keys instead. */
function withoutIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutIds);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'id').map(([k, x]) => [k, withoutIds(x)]));
  }
  return v;
}

export type OciSchema = 'manifest' | 'index' | 'config' | 'layout' | 'descriptor';

const ROOTS: Record<OciSchema, string> = {
  manifest: 'image-manifest-schema.json',
  index: 'image-index-schema.json',
  config: 'config-schema.json',
  layout: 'image-layout-schema.json',
  descriptor: 'content-descriptor.json',
};

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  // RFC 3339 date-time (the config's `created`), and a loose URI check; ajv ships no formats itself.
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S*$/i);
  for (const base of ['https://opencontainers.org/schema/', 'https://opencontainers.org/schema/image/']) {
    for (const f of ['defs.json', 'defs-descriptor.json', 'content-descriptor.json']) {
      ajv.addSchema(withoutIds(load(f)) as object, base + f);
    }
  }
  for (const [name, f] of Object.entries(ROOTS)) {
    // Each root keeps its own id (the base its relative $refs resolve against) under a short key.
    const raw = load(f);
    ajv.addSchema({ ...(withoutIds(raw) as object), id: `${String(raw.id ?? 'https://opencontainers.org/schema/')}#root-${name}` }, `oci:${name}`);
  }
  return ajv;
}

let ajv: Ajv | undefined;

/** Validation errors as text; empty when `doc` is valid. `doc` may be the exact bytes or a parsed value. */
export function ociSchemaErrors(schema: OciSchema, doc: unknown): string[] {
  ajv ??= makeAjv();
  const value = doc instanceof Uint8Array || typeof doc === 'string' ? JSON.parse(Buffer.from(doc as Uint8Array).toString('utf8')) : doc;
  const validate = ajv.getSchema(`oci:${schema}`)!;
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
