// Numbers kept in a file instead of memory, read and written back a page at a time through a few pages in memory.
// The stat cache moves its reserved files' stats here once a cold build's scan has reserved them all: the layer
// writer then reads them (each file's walk stat, to check it) in about the order they were written, and the save
// reads them in order.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { OpenFiles } from '../util/open-files.js';

/** Numbers per page (4 KiB). */
const PAGE = 512;
/** Pages held in memory (1 MiB): a layer's files come in path order, their stats in walk order, folder by folder. */
const HELD = 256;

export interface NumberColumn {
  at(i: number): number;
  set(i: number, v: number): void;
}

export class PagedNumbers implements NumberColumn {
  private fd: number | undefined;
  /**
   * The pages in memory, direct-mapped: page n in place n % HELD. Nothing is made per access (a map of pages kept in
   * use order made garbage at every read, 3 reads a file, and showed as hundreds of MiB of old generation).
   */
  private readonly held = new Float64Array(HELD * PAGE);
  private readonly pageIn = new Int32Array(HELD).fill(-1);
  private readonly dirty = new Uint8Array(HELD);
  /** Pages read from the file so far. */
  reads = 0;

  /**
   * Writes the numbers of `source` (`length` of them) to a new file `file`, removed at once: only the open file
   * keeps it, so nothing is left behind whatever becomes of the process. `owner` (a build) closes it however the
   * run ends, if its user (the stat cache's save) did not.
   */
  constructor(
    /** The file's name (removed at once). */
    readonly file: string,
    source: NumberColumn,
    readonly length: number,
    private readonly owner?: OpenFiles,
  ) {
    const fd = openSync(file, 'wx+', 0o600);
    try {
      unlinkSync(file);
      const page = new Float64Array(PAGE);
      for (let start = 0; start < length; start += PAGE) {
        const n = Math.min(PAGE, length - start);
        for (let i = 0; i < n; i++) page[i] = source.at(start + i);
        writeFull(fd, new Uint8Array(page.buffer, 0, n * 8), start * 8);
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
    owner?.add(this);
  }

  at(i: number): number {
    return this.held[this.place(i) * PAGE + (i % PAGE)]!;
  }

  set(i: number, v: number): void {
    const at = this.place(i) * PAGE + (i % PAGE);
    if (this.held[at] === v) return;
    this.held[at] = v;
    this.dirty[Math.floor(at / PAGE)] = 1;
  }

  /** Closes the file; the numbers are gone. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.owner?.closed(this);
    this.pageIn.fill(-1);
  }

  /** Where in `held` the page of number `i` is, read in (and the page there written back) if it was not. */
  private place(i: number): number {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`paged numbers: ${i} is outside 0…${this.length - 1}`);
    const n = Math.floor(i / PAGE);
    const p = n % HELD;
    if (this.pageIn[p] === n) return p;
    if (this.fd === undefined) throw new Error('paged numbers: closed');
    const old = this.pageIn[p]!;
    if (old >= 0 && this.dirty[p] === 1) writeFull(this.fd, this.bytesAt(p, old), old * PAGE * 8);
    const bytes = this.bytesAt(p, n);
    for (let got = 0; got < bytes.length; ) {
      const r = readSync(this.fd, bytes, got, bytes.length - got, n * PAGE * 8 + got);
      if (r === 0) throw new Error(`paged numbers: the file ended at page ${n}`);
      got += r;
    }
    this.reads++;
    this.pageIn[p] = n;
    this.dirty[p] = 0;
    return p;
  }

  /** The bytes of place `p` that page `n` fills (the last page may be short). */
  private bytesAt(p: number, n: number): Uint8Array {
    return new Uint8Array(this.held.buffer, p * PAGE * 8, Math.min(PAGE, this.length - n * PAGE) * 8);
  }
}

function writeFull(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
