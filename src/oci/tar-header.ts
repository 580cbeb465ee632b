// Tar header blocks, byte for byte as tar-stream 3 writes them (ustar, with a PAX record for what ustar cannot
// hold), written straight into the caller's buffer: the layer writer packs many small files per output chunk
// instead of making a stream per entry. test/oci-tar.test.ts pins the bytes against tar-stream's own pack.

export type TarType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file';

export interface TarHeaderFields {
  name: string;
  type?: TarType | string | null;
  mode?: number;
  size?: number;
  mtime?: Date;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
  pax?: unknown;
}

type Normalized = Omit<TarHeaderFields, 'type'> & { type: string; mode: number; size: number; mtime: Date; uid: number; gid: number };

export const BLOCK = 512;
const DMODE = 0o755;
const FMODE = 0o644;
const ZEROS = '0000000000000000000';
const SEVENS = '7777777777777777777';
const TYPEFLAG: Record<string, number> = {
  file: 0,
  link: 1,
  symlink: 2,
  'character-device': 3,
  'block-device': 4,
  directory: 5,
  fifo: 6,
  'contiguous-file': 7,
  'pax-header': 72,
};
const S_IFMT = 0o170000;
const MODE_TYPES: Record<number, string> = { 0o060000: 'block-device', 0o020000: 'character-device', 0o040000: 'directory', 0o010000: 'fifo', 0o120000: 'symlink' };

/** Fills in what tar-stream's `pack.entry` fills in (size 0 for symlinks and void entries, default modes). */
export function normalizeHeader(h: TarHeaderFields, mtimeNow: () => Date = () => new Date()): Normalized {
  const type = h.type || MODE_TYPES[(h.mode ?? 0) & S_IFMT] || 'file';
  return {
    ...h,
    type,
    size: !h.size || type === 'symlink' ? 0 : h.size,
    mode: h.mode || (type === 'directory' ? DMODE : FMODE),
    uid: h.uid || 0,
    gid: h.gid || 0,
    mtime: h.mtime || mtimeNow(),
  };
}

function octal(val: number, n: number): string {
  const s = val.toString(8);
  if (s.length > n) return `${SEVENS.slice(0, n)} `;
  return `${ZEROS.slice(0, n - s.length)}${s} `;
}

function writeSize(num: number, buf: Buffer, off: number): void {
  if (num.toString(8).length > 11) {
    buf[off] = 0x80;
    for (let i = 11; i > 0; i--) {
      buf[off + i] = num & 0xff;
      num = Math.floor(num / 0x100);
    }
  } else buf.write(octal(num, 11), off, 'latin1');
}

/** One ustar block at `buf[off..off+512)` (which must be zero), or false when the name needs a PAX record. */
function ustar(h: Normalized, buf: Buffer, off: number): boolean {
  let name = h.name;
  let prefix = '';
  const typeflag = TYPEFLAG[h.type] ?? 0;
  // tar-stream tests `opts.typeflag === 5`, a field its headers never carry: directories get no trailing slash.
  if (Buffer.byteLength(name) !== name.length) return false; // not ASCII
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return false;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return false;
  if (h.linkname && Buffer.byteLength(h.linkname) > 100) return false;
  const b = buf.subarray(off, off + BLOCK);
  b.write(name, 0, 'latin1');
  b.write(octal(h.mode & 0o7777, 6), 100, 'latin1');
  b.write(octal(h.uid, 6), 108, 'latin1');
  b.write(octal(h.gid, 6), 116, 'latin1');
  writeSize(h.size, b, 124);
  b.write(octal((h.mtime.getTime() / 1000) | 0, 11), 136, 'latin1');
  b[156] = 0x30 + typeflag;
  if (h.linkname) b.write(h.linkname, 157);
  b.write('ustar\x0000', 257, 'latin1');
  if (h.uname) b.write(h.uname, 265);
  if (h.gname) b.write(h.gname, 297);
  b.write(octal(h.devmajor || 0, 6), 329, 'latin1');
  b.write(octal(h.devminor || 0, 6), 337, 'latin1');
  if (prefix) b.write(prefix, 345, 'latin1');
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  b.write(octal(sum, 6), 148, 'latin1');
  return true;
}

function paxLength(str: string): string {
  const len = Buffer.byteLength(str);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return `${len + digits}${str}`;
}

function paxRecords(h: TarHeaderFields): Buffer {
  let s = '';
  if (h.name) s += paxLength(` path=${h.name}\n`);
  if (h.linkname) s += paxLength(` linkpath=${h.linkname}\n`);
  const pax = (h.pax ?? {}) as Record<string, unknown>;
  for (const key in pax) s += paxLength(` ${key}=${String(pax[key])}\n`);
  return Buffer.from(s);
}

/** Bytes of padding after `size` bytes of body, to the next 512-byte boundary. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r ? BLOCK - r : 0;
}

/**
 * The header blocks of one entry (one ustar block, or PAX header + records + padding + ustar block), as
 * tar-stream writes them. `h` must be normalized.
 */
export function encodeHeader(h: Normalized): Buffer {
  if (!h.pax) {
    const one = Buffer.alloc(BLOCK);
    if (ustar(h, one, 0)) return one;
  }
  const records = paxRecords(h);
  const paxHead: Normalized = { ...h, name: 'PaxHeader', size: records.byteLength, type: 'pax-header', linkname: h.linkname && 'PaxHeader', pax: undefined };
  const out = Buffer.alloc(BLOCK + records.byteLength + padding(records.byteLength) + BLOCK);
  if (!ustar(paxHead, out, 0)) throw new Error(`cannot encode the PAX header of ${h.name}`);
  records.copy(out, BLOCK);
  const main = { ...paxHead, size: h.size, type: h.type };
  if (!ustar(main, out, out.length - BLOCK)) throw new Error(`cannot encode the header of ${h.name}`);
  return out;
}

/**
 * Writes the entry's header into `buf` at `off` when it is a single ustar block (the common case, no
 * allocation) and returns the bytes written; 0 when it needs `encodeHeader`'s PAX form. `buf[off..off+512)`
 * must be zero.
 */
export function writeUstarHeader(h: Normalized, buf: Buffer, off: number): number {
  if (h.pax) return 0;
  return ustar(h, buf, off) ? BLOCK : 0;
}
