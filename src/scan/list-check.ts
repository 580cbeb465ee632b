// Candidate chunk lists of one file checked against its bytes as they stream by, in the one read that hashes the file
// (docs/chunks.md, "A fresh host"): each chunk's bytes must hash to its sha256 and xxh64, the bytes must end where the
// list does, and the whole file must hash to the list's sha256. Every distinct byte range the lists name is hashed
// once, whatever number of lists name it (lists of the same content, or of two versions that share most chunks), and
// the whole file's sha256 is taken in the same pass; once no list can match, nothing more is hashed.
import { createHash, type Hash } from 'node:crypto';
import { hex64, type XxhashApi } from './hash.js';

export interface CheckedList {
  size: number;
  sha256: string;
  chunks: readonly { sha256: string; size: number; xxh64: string }[];
}

/** A byte range being hashed, shared by the lists whose current chunk it is. */
interface Range {
  end: number;
  sha: Hash;
  x: ReturnType<XxhashApi['create64']>;
}

export class ListsCheck<L extends CheckedList> {
  /** Bytes seen so far. */
  private at = 0;
  private readonly whole = createHash('sha256');
  /** Per list: the index of its chunk the bytes are in, and where that chunk starts; -1 once it cannot match. */
  private readonly chunk: number[];
  private readonly chunkStart: number[];
  private readonly ranges = new Map<string, Range>();

  constructor(
    private readonly lists: readonly L[],
    private readonly api: XxhashApi,
  ) {
    this.chunk = lists.map((l) => (l.chunks.length > 0 ? 0 : -1));
    this.chunkStart = lists.map(() => 0);
  }

  /** Whether some list may still match: once none can, the caller may stop reading. */
  get alive(): boolean {
    return this.chunk.some((c) => c >= 0);
  }

  update(block: Uint8Array): void {
    if (!this.alive) return;
    this.whole.update(block);
    let start = 0;
    while (start < block.length && this.alive) {
      // The ranges the bytes at `this.at` are in (one per distinct current chunk), fed up to the nearest end.
      const active = this.activeRanges();
      let stop = block.length;
      for (const r of active.values()) stop = Math.min(stop, start + (r.end - this.at));
      const part = block.subarray(start, stop);
      for (const r of active.values()) {
        r.sha.update(part);
        r.x.update(part);
      }
      this.at += stop - start;
      start = stop;
      for (const [key, r] of active) if (r.end === this.at) this.finish(key, r);
    }
  }

  /** The lists the bytes matched (call once all bytes were given). */
  matched(): L[] {
    if (!this.alive) return [];
    const sha256 = this.whole.digest('hex');
    return this.lists.filter((l, i) => this.chunk[i] === l.chunks.length && this.at === l.size && sha256 === l.sha256);
  }

  private activeRanges(): Map<string, Range> {
    const active = new Map<string, Range>();
    this.lists.forEach((l, i) => {
      const c = this.chunk[i]!;
      if (c < 0) return;
      const chunk = l.chunks[c];
      // More bytes than the list holds, or a chunk of no bytes (a list from a file: it may say anything).
      if (!chunk || !(chunk.size > 0)) return void (this.chunk[i] = -1);
      const key = `${this.chunkStart[i]}:${chunk.size}`;
      let r = this.ranges.get(key);
      if (!r) {
        r = { end: this.chunkStart[i]! + chunk.size, sha: createHash('sha256'), x: this.api.create64() };
        this.ranges.set(key, r);
      }
      active.set(key, r);
    });
    return active;
  }

  /** A range's bytes are all in: each list whose current chunk it is matches it or is out; the matching move on. */
  private finish(key: string, r: Range): void {
    this.ranges.delete(key);
    const sha256 = r.sha.digest('hex');
    const xxh64 = hex64(r.x.digest());
    this.lists.forEach((l, i) => {
      const c = this.chunk[i]!;
      const chunk = l.chunks[c];
      // Only the lists whose current chunk is this very range (another may end at the same byte).
      if (c < 0 || !chunk || `${this.chunkStart[i]}:${chunk.size}` !== key) return;
      if (chunk.sha256 !== sha256 || chunk.xxh64 !== xxh64) this.chunk[i] = -1;
      else {
        this.chunk[i] = c + 1;
        this.chunkStart[i] = r.end;
      }
    });
  }
}
