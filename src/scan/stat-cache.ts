// path → (size, mtime, ctime, inode) → xxh64. A rescan of an unchanged tree then costs only stats.
// Stored as checked JSON: a truncated or garbled cache is detected and ignored, never trusted.
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';

/** [size, mtimeMs, ctimeMs, ino] */
export type StatKey = [number, number, number, number];
type Row = [number, number, number, number, string];

const FORMAT = 'gamelayer-stat-cache/1';

/** A file is cached only if its mtime is this much older than the moment its hash began (racy-git rule). */
export const RACY_WINDOW_MS = 2000;

export class StatCache {
  private readonly next = new Map<string, Row>();

  private constructor(
    readonly file: string,
    private readonly rows: Map<string, Row>,
    /** Why the stored cache was not used, when it existed but was not. */
    readonly rejected?: string,
  ) {}

  static async open(file: string): Promise<StatCache> {
    const read = await readCheckedJson<unknown>(file, FORMAT);
    if (!read.ok) return new StatCache(file, new Map(), read.missing ? undefined : read.reason);
    const rows = new Map<string, Row>();
    if (Array.isArray(read.value)) {
      for (const r of read.value as unknown[]) {
        if (Array.isArray(r) && r.length === 6 && typeof r[0] === 'string' && typeof r[5] === 'string') {
          rows.set(r[0], r.slice(1) as Row);
        }
      }
    }
    return new StatCache(file, rows);
  }

  /** The cached hash when every stat field matches; undefined otherwise. */
  lookup(relPath: string, k: StatKey): string | undefined {
    const r = this.rows.get(relPath);
    if (!r || r[0] !== k[0] || r[1] !== k[1] || r[2] !== k[2] || r[3] !== k[3]) return undefined;
    return r[4];
  }

  /** Keeps a hash for the next save; `hashedAtMs` is when hashing began. Racy files are not kept. */
  record(relPath: string, k: StatKey, xxh64: string, hashedAtMs: number): void {
    if (k[1] >= hashedAtMs - RACY_WINDOW_MS) return;
    this.added++;
    this.next.set(relPath, [k[0], k[1], k[2], k[3], xxh64]);
  }

  /** True when the next save would write what is already stored: every stored row was kept and none added. */
  get unchanged(): boolean {
    return this.rejected === undefined && this.added === 0 && this.next.size === this.rows.size;
  }

  private added = 0;

  /** Keeps a hash that came from this cache (it was not racy when recorded). */
  keep(relPath: string, k: StatKey, xxh64: string): void {
    this.next.set(relPath, [k[0], k[1], k[2], k[3], xxh64]);
  }

  /** Writes what this scan recorded (paths not seen are dropped). */
  async save(): Promise<void> {
    await writeCheckedJson(this.file, FORMAT, [...this.next].map(([p, r]) => [p, ...r]));
  }
}
