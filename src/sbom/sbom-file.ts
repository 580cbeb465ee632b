// The build's SBOM written into a temp file as it is made (hashed on the way), and that file as an upload source:
// a 100k-file game's SBOM is 27 MiB of JSON, a 1M-file game's ten times that, so it is never held whole.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { BlobSource } from '../registry/upload.js';
import { writeAll } from '../util/write-all.js';
import { writeSbom, type SbomInput } from './cyclonedx.js';

export interface SbomFile {
  file: string;
  digest: string;
  size: number;
  files: number;
  /** The file as an upload source. */
  source: BlobSource;
  /** Removes the file. */
  remove(): Promise<void>;
}

/** Text is written to the file in pieces of at least this many characters (small: see PIECE in cyclonedx.ts). */
const FLUSH = 1 << 15;

/** Writes the SBOM of `input` into `file` (created; removed again on failure). */
export async function writeSbomFile(input: SbomInput, file: string): Promise<SbomFile> {
  const fh = await open(file, 'wx');
  const hash = createHash('sha256');
  let size = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  // One buffer for every piece's bytes (grown for a larger piece), not a new one per piece.
  let buf = Buffer.allocUnsafe(4 * FLUSH);
  const flush = async () => {
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    pendingLength = 0;
    const need = Buffer.byteLength(text);
    if (need > buf.length) buf = Buffer.allocUnsafe(need);
    const bytes = buf.subarray(0, buf.write(text, 0, need, 'utf8'));
    hash.update(bytes);
    size += bytes.length;
    await writeAll(fh, bytes);
  };
  const remove = () => rm(file, { force: true });
  let files: number;
  try {
    ({ files } = await writeSbom(input, async (text) => {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= FLUSH) await flush();
    }));
    await flush();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await remove();
    throw e;
  }
  const digest = `sha256:${hash.digest('hex')}`;
  return { file, digest, size, files, source: fileSource(file, digest, size), remove };
}

/** How far into an SBOM its metadata (the tools entry) is looked for: it comes first. */
export const SBOM_HEAD_BYTES = 64 * 1024;

/**
 * The digest and size `sbom` would have with `text` (the first one in its first SBOM_HEAD_BYTES) written as `instead`,
 * hashed from the file without writing it: undefined when `text` is not there.
 */
export async function digestReplacing(sbom: SbomFile, text: string, instead: string): Promise<{ digest: string; size: number } | undefined> {
  const fh = await open(sbom.file, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(SBOM_HEAD_BYTES), 0, SBOM_HEAD_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const from = Buffer.from(text);
  const at = head.indexOf(from);
  if (at < 0) return undefined;
  const to = Buffer.from(instead);
  const hash = createHash('sha256').update(head.subarray(0, at)).update(to);
  if (at + from.length < sbom.size) for await (const chunk of createReadStream(sbom.file, { start: at + from.length })) hash.update(chunk as Buffer);
  return { digest: `sha256:${hash.digest('hex')}`, size: sbom.size - from.length + to.length };
}

/** A file whose digest is known as an upload source (the registry checks the digest of what it receives). */
function fileSource(file: string, digest: string, size: number): BlobSource {
  return {
    digest,
    size,
    origin: file,
    open: (start = 0, end = size - 1) => createReadStream(file, { start, end }),
    actualDigest: async () => {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
      return `sha256:${h.digest('hex')}`;
    },
  };
}
