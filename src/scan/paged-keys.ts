// Numbers kept in a file instead of memory, read and written back a page at a time through a few pages in memory.
// The stat cache moves its reserved files' stats here once a cold build's scan has reserved them all: the layer
// writer then reads them (each file's walk stat, to check it) in about the order they were written, and the save
// reads them in order.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';

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
  /** Pages in memory, least recently used first (a Map keeps insertion order). */
  private readonly held = new Map<number, { numbers: Float64Array; dirty: boolean }>();

  /**
   * Writes the numbers of `source` (`length` of them) to a new file `file`, removed at once: only the open file
   * keeps it, so nothing is left behind whatever becomes of the process.
   */
  constructor(file: string, source: NumberColumn, readonly length: number) {
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
  }

  at(i: number): number {
    return this.page(i).numbers[i % PAGE]!;
  }

  set(i: number, v: number): void {
    const p = this.page(i);
    if (p.numbers[i % PAGE] === v) return;
    p.numbers[i % PAGE] = v;
    p.dirty = true;
  }

  /** Closes the file; the numbers are gone. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.held.clear();
  }

  private page(i: number): { numbers: Float64Array; dirty: boolean } {
    if (i < 0 || i >= this.length) throw new RangeError(`paged numbers: ${i} is outside 0…${this.length - 1}`);
    if (this.fd === undefined) throw new Error('paged numbers: closed');
    const n = Math.floor(i / PAGE);
    let p = this.held.get(n);
    if (p) {
      this.held.delete(n);
      this.held.set(n, p);
      return p;
    }
    if (this.held.size >= HELD) {
      const [oldest, old] = this.held.entries().next().value as [number, { numbers: Float64Array; dirty: boolean }];
      this.held.delete(oldest);
      if (old.dirty) writeFull(this.fd, this.bytesOf(oldest, old.numbers), oldest * PAGE * 8);
      p = { numbers: old.numbers, dirty: false };
    } else p = { numbers: new Float64Array(PAGE), dirty: false };
    const bytes = this.bytesOf(n, p.numbers);
    for (let got = 0; got < bytes.length; ) {
      const r = readSync(this.fd, bytes, got, bytes.length - got, n * PAGE * 8 + got);
      if (r === 0) throw new Error(`paged numbers: the file ended at page ${n}`);
      got += r;
    }
    this.held.set(n, p);
    return p;
  }

  /** The bytes of page `n` that hold numbers (the last page may be short). */
  private bytesOf(n: number, numbers: Float64Array): Uint8Array {
    return new Uint8Array(numbers.buffer, 0, Math.min(PAGE, this.length - n * PAGE) * 8);
  }
}

function writeFull(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}
