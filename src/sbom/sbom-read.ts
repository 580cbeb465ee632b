// A fetched SBOM in bounded memory (`gamelayer sbom REF`; a 1M-file game's SBOM is about 270 MB of JSON): the blob
// goes into a temp file while it is hashed, and nothing of it is read, checked or printed before its digest and
// size are; then the document is checked a piece at a time from the file and printed from it.
//
// The check is the one `validateSbom` makes of the whole document, split: the lists of components nested in a
// top-level component (a tree's files, the bulk) are cut out of the document, each of their items parsed and checked
// on its own against the schema's `component` definition, and the rest (the skeleton, with those lists empty) is
// parsed and checked whole against the schema. The schema holds no constraint across a list's items (`uniqueItems`
// is checked as distinct bom-refs, as there): both together accept what the whole check accepts. Distinct bom-refs
// are checked without holding them: each cut list in strictly rising byte order (as gamelayer writes them), the lists'
// ranges apart and no skeleton bom-ref inside one. A document that is not so (not gamelayer's, or a component in a
// list with components of its own bearing bom-refs) is checked whole, as before.
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { GamelayerError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import { compareBytewise } from '../scan/manifest.js';
import type { Descriptor } from '../types.js';
import { JsonTokenizer } from '../util/json-tokens.js';
import { writeAll } from '../util/write-all.js';
import { distinctBomRefs, SBOM_SPEC, sbomValidators, validateSbom } from './cyclonedx.js';

/** Bytes read from the file at a time. */
const READ = 1 << 16;
/** The most one cut-out component, or the skeleton, may be: a gamelayer SBOM's are hundreds of bytes and a few KiB. */
const MAX_PIECE = 16 * 1024 * 1024;

/**
 * Downloads the blob `d` of `repo` into `file` (created), hashing it on the way; a blob of another size or digest
 * is an error (the file then holds bytes that must not be used: the caller removes it).
 */
export async function downloadCheckedBlob(client: RegistryClient, repo: string, d: Descriptor, file: string, maxBytes: number): Promise<void> {
  const where = `${client.host}/${repo}`;
  if (d.size > maxBytes) throw new GamelayerError('referrers.too-large', `${where}: blob ${d.digest} is ${d.size} bytes, more than ${maxBytes} allowed for a ${d.mediaType}`);
  const mismatch = () => new GamelayerError('referrers.invalid', `${where}: blob ${d.digest} does not match its digest`);
  if (!d.digest.startsWith('sha256:')) throw mismatch();
  const body = await client.getBlob(repo, d.digest);
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(file, 'wx');
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // More than the descriptor says is a wrong blob: not read further.
      if (size > d.size) {
        body.destroy();
        throw mismatch();
      }
      hash.update(chunk);
      await writeAll(fh, chunk);
    }
  } finally {
    await fh.close();
  }
  if (size !== d.size || `sha256:${hash.digest('hex')}` !== d.digest) throw mismatch();
}

/**
 * The first `n` bytes of blob `d` (all of it when smaller): a ranged GET, and a registry that ignores the range is
 * read no further than `n` bytes. A part cannot be checked against the digest: the caller trusts nothing it says.
 */
export async function readBlobHead(client: RegistryClient, repo: string, d: Descriptor, n: number): Promise<Buffer> {
  const body = await client.getBlob(repo, d.digest, n);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= n) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks, size).subarray(0, n);
}

/**
 * Checks the CycloneDX document in `file` (its digest checked already) as `validateSbom` does, reading it a piece at
 * a time; returns its skeleton (the document with the cut lists empty) for the caller's own checks.
 */
export async function checkSbomFile(file: string, what: string): Promise<unknown> {
  const { bom, component } = await sbomValidators();
  const invalid = (message: string) => new GamelayerError('sbom.invalid', `${what}${message}`);
  /** Not the shape this check is for: checked whole instead. */
  let whole = false;
  const key: (string | undefined)[] = [];
  let inTop = false;
  let list: { start: number; first?: string; last?: string; index: number; items: number } | undefined;
  let topIndex = -1;
  let itemStart = -1;
  let carry: Buffer | undefined;
  const ranges: { first: string; last: string }[] = [];
  const skeleton: Buffer[] = [];
  let skeletonBytes = 0;
  let skelFrom = 0;
  let tok!: JsonTokenizer;
  const keep = (bytes: Uint8Array) => {
    skeletonBytes += bytes.length;
    if (skeletonBytes > MAX_PIECE) throw invalid(`: more than ${MAX_PIECE} bytes outside its lists of files`);
    skeleton.push(Buffer.from(bytes));
  };
  const bytesOf = (start: number, end: number): Buffer => {
    const c = tok.chunk;
    const from = start - tok.chunkBase;
    const to = end - tok.chunkBase;
    if (from >= 0) return Buffer.from(c.buffer, c.byteOffset + from, to - from);
    return Buffer.concat([carry!, c.subarray(0, to)]);
  };
  const onItem = (start: number, end: number) => {
    const text = bytesOf(start, end).toString('utf8');
    const item = JSON.parse(text) as { 'bom-ref'?: unknown; components?: unknown };
    const path = `/components/${topIndex}/components/${list!.items}`;
    if (!component(item)) {
      const first = component.errors?.[0];
      throw invalid(` is not valid CycloneDX ${SBOM_SPEC}: ${path}${first?.instancePath ?? ''} ${first?.message ?? ''}`.trimEnd());
    }
    list!.items++;
    const ref = item['bom-ref'];
    if (Array.isArray(item.components) && item.components.length) whole = true;
    if (typeof ref !== 'string') return;
    if (list!.last !== undefined && compareBytewise(list!.last, ref) >= 0) whole = true;
    list!.first ??= ref;
    list!.last = ref;
  };
  const notComponent = () => invalid(` is not valid CycloneDX ${SBOM_SPEC}: /components/${topIndex}/components/${list!.items} must be object`);
  tok = new JsonTokenizer(
    {
      key(k, _s, _e, depth) {
        key[depth] = k;
      },
      open(array, start, depth) {
        if (depth === 2 && array && key[1] === 'components') inTop = true;
        else if (depth === 3 && inTop) topIndex++;
        else if (depth === 4 && array && inTop && key[3] === 'components') {
          keep(tok.chunk.subarray(skelFrom - tok.chunkBase, start + 1 - tok.chunkBase));
          list = { start, index: topIndex, items: 0 };
        } else if (depth === 5 && list) {
          if (array) throw notComponent();
          itemStart = start;
        }
      },
      scalar(_s, _e, depth) {
        if (depth === 5 && list) throw notComponent();
      },
      close(array, end, depth) {
        if (depth === 5 && list) {
          onItem(itemStart, end);
          itemStart = -1;
          carry = undefined;
        } else if (depth === 4 && list) {
          if (list.first !== undefined) ranges.push({ first: list.first, last: list.last! });
          list = undefined;
          skelFrom = end - 1; // the list's `]`
        } else if (depth === 3 && inTop) key[3] = undefined;
        else if (depth === 2 && array) inTop = false;
      },
    },
    { file: what, reportDepth: 5, keyDepth: 3 },
  );
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ);
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, READ, pos);
      if (!bytesRead) break;
      const chunk = buf.subarray(0, bytesRead);
      try {
        tok.push(chunk);
      } catch (e) {
        if (e instanceof SyntaxError && !(e instanceof GamelayerError)) throw invalid(` is not JSON: ${e.message}`);
        throw e;
      }
      const end = pos + bytesRead;
      // What of this chunk is still needed after it: the start of an item being read, or the skeleton's text.
      if (itemStart >= 0) {
        const rest = chunk.subarray(Math.max(itemStart - pos, 0));
        carry = carry && itemStart < pos ? Buffer.concat([carry, rest]) : Buffer.from(rest);
        if (carry.length > MAX_PIECE) throw invalid(`: a component of more than ${MAX_PIECE} bytes at byte ${itemStart}`);
      } else if (!list) {
        keep(chunk.subarray(skelFrom - pos));
        skelFrom = end;
      }
      if (list) skelFrom = Math.max(skelFrom, end);
      pos = end;
    }
    try {
      tok.end();
    } catch (e) {
      throw invalid(` is not JSON: ${(e as Error).message}`);
    }
  } finally {
    await fh.close();
  }
  if (whole) return validateSbom(await readFile(file, 'utf8'), what);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(skeleton).toString('utf8'));
  } catch (e) {
    throw invalid(` is not JSON: ${(e as Error).message}`);
  }
  if (!bom(doc)) {
    const first = bom.errors?.[0];
    throw invalid(` is not valid CycloneDX ${SBOM_SPEC}: ${first?.instancePath || '(root)'} ${first?.message ?? ''}`.trimEnd());
  }
  // Distinct bom-refs: the skeleton's (held: a few), none inside a list's range, the lists' ranges apart.
  const seen = distinctBomRefs(doc, what);
  ranges.sort((a, b) => compareBytewise(a.first, b.first));
  for (let i = 1; i < ranges.length; i++) if (compareBytewise(ranges[i - 1]!.last, ranges[i]!.first) >= 0) return validateSbom(await readFile(file, 'utf8'), what);
  for (const ref of seen) for (const r of ranges) if (compareBytewise(r.first, ref) <= 0 && compareBytewise(ref, r.last) <= 0) return validateSbom(await readFile(file, 'utf8'), what);
  return doc;
}
