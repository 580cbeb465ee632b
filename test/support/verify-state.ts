// Independent checks of what gamelayer leaves on disk, written without its own code: every blob in an OCI
// layout hashes to its name, index.json and everything it reaches are present and whole, and every record
// in `.gamelayer/records/` is complete JSON whose images and layers are in the store.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

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
