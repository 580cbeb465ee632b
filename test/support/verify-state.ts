// Independent checks of what gamelayer leaves on disk, written without its own code: every blob in an OCI
// layout hashes to its name, index.json and everything it reaches are present and whole, and every record
// in `.gamelayer/records/` is complete JSON whose images and layers are in the store.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import xxhash from 'xxhash-wasm';

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

interface Desc {
  mediaType?: string;
  digest: string;
  size: number;
}

/**
 * Problems of an OCI image layout; empty when it is valid. Hashes every blob. A store not created yet (no
 * index.json and no blob: a run killed while it set the folder up) has no problems: it holds nothing.
 */
export async function storeProblems(dir: string): Promise<string[]> {
  const problems: string[] = [];
  const blobDir = path.join(dir, 'blobs', 'sha256');
  const names = existsSync(blobDir) ? await readdir(blobDir) : [];
  if (names.length === 0 && !existsSync(path.join(dir, 'index.json'))) return [];
  if (!existsSync(path.join(dir, 'oci-layout'))) return [`${dir}: no oci-layout`];
  const layout = await readFile(path.join(dir, 'oci-layout'), 'utf8');
  if (layout !== '{"imageLayoutVersion":"1.0.0"}') problems.push(`oci-layout holds ${JSON.stringify(layout)}`);
  for (const name of names) {
    if (!/^[a-f0-9]{64}$/.test(name)) {
      problems.push(`blobs/sha256/${name}: not a digest name`);
      continue;
    }
    const got = await sha256File(path.join(blobDir, name));
    if (got !== name) problems.push(`blobs/sha256/${name}: content hashes to ${got}`);
  }
  let index: { manifests?: Desc[] };
  try {
    index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests?: Desc[] };
  } catch (e) {
    return [...problems, `index.json: ${(e as Error).message}`];
  }
  if (!Array.isArray(index.manifests)) return [...problems, 'index.json: no manifests list'];
  const seen = new Set<string>();
  const visit = async (d: Desc, from: string): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const file = path.join(blobDir, d.digest.replace(/^sha256:/, ''));
    const st = await stat(file).catch(() => undefined);
    if (!st) return void problems.push(`${from} points at ${d.digest}, which is not in the store`);
    if (st.size !== d.size) return void problems.push(`${from} says ${d.digest} has ${d.size} bytes; it has ${st.size}`);
    if (!/manifest|index/.test(d.mediaType ?? '')) return;
    const doc = JSON.parse(await readFile(file, 'utf8')) as { config?: Desc; layers?: Desc[]; manifests?: Desc[] };
    const children = [...(doc.config ? [doc.config] : []), ...(doc.layers ?? []), ...(doc.manifests ?? [])];
    for (const c of children) await visit(c, d.digest);
  };
  for (const m of index.manifests) await visit(m, 'index.json');
  return problems;
}

/** Problems of the records in `<stateDir>/records/`: each parses whole, and a build record's blobs are in `store`. */
export async function recordProblems(stateDir: string, store: string): Promise<string[]> {
  const dir = path.join(stateDir, 'records');
  if (!existsSync(dir)) return [];
  const problems: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue; // temp files of a killed writer are not records
    if (/^rerun-last(@[0-9a-f]{12})?\.json$/.test(name)) continue; // a no-op's note beside the pointer (state/last-run.ts)
    let r: { schemaVersion?: number; manifests?: unknown[]; images?: Desc[]; layers?: Desc[] };
    try {
      r = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as typeof r;
    } catch (e) {
      problems.push(`records/${name}: ${(e as Error).message}`);
      continue;
    }
    if (r.schemaVersion !== 1 || !Array.isArray(r.manifests)) problems.push(`records/${name}: not a record`);
    for (const d of [...(r.images ?? []), ...(r.layers ?? [])]) {
      if (!existsSync(path.join(store, 'blobs', 'sha256', d.digest.replace(/^sha256:/, '')))) {
        problems.push(`records/${name} names ${d.digest}, which is not in the store`);
      }
    }
  }
  return problems;
}

/** Files anywhere under `dir` (relative paths), for finding left-over temp files. */
export async function listFilesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

interface RecordedLayer {
  tree: string;
  inputKey: string;
  digest: string;
}
interface RecordedPlan {
  tree: string;
  inputKey: string;
  entries: { path: string; type: string; size: number; xxh64?: string }[];
}

/**
 * Unpacks every layer a build record names (with GNU tar, not our code) and checks that each file in it has the
 * size and xxh64 the record's plan says: a layer never holds content other than what was recorded.
 */
export async function layerContentProblems(
  store: string,
  recordFile: string,
  scratch: string,
  mountOf: (tree: string) => string = (t) => `/opt/local/${t}`,
): Promise<string[]> {
  const { create64 } = await xxhash();
  const record = JSON.parse(await readFile(recordFile, 'utf8')) as { layers: RecordedLayer[]; plan: { layers: RecordedPlan[] } };
  const problems: string[] = [];
  for (const planned of record.plan.layers) {
    const built = record.layers.find((l) => l.inputKey === planned.inputKey);
    if (!built) {
      problems.push(`${planned.tree} layer ${planned.inputKey}: not built`);
      continue;
    }
    const out = await mkdtemp(path.join(scratch, 'layer-'));
    try {
      execFileSync('tar', ['-xzf', path.join(store, 'blobs/sha256', built.digest.slice(7)), '-C', out]);
      for (const e of planned.entries) {
        if (e.type !== 'file') continue;
        const file = path.join(out, mountOf(planned.tree), e.path);
        const bytes = await readFile(file).catch(() => undefined);
        if (!bytes) {
          problems.push(`${built.digest}: ${e.path} missing`);
          continue;
        }
        const h = create64();
        h.update(bytes);
        const got = h.digest().toString(16).padStart(16, '0');
        if (bytes.length !== e.size || got !== e.xxh64) {
          problems.push(`${built.digest}: ${e.path} holds ${bytes.length} bytes xxh64 ${got}; recorded ${e.size} bytes xxh64 ${e.xxh64}`);
        }
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
  return problems;
}
