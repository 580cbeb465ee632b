// Files a run opened that it must close however it ends. A build makes one and hands it down to the steps that
// open such files (a cold scan's paged stats, src/scan/paged-keys.ts); its `finally` closes what is still open.
// Owned by the run, not kept by the module: two runs in one process never close each other's files.

export interface Closable {
  close(): void;
}

export class OpenFiles {
  private readonly open = new Set<Closable>();

  /** Holds `file` until it closes (`closed`) or the owner closes everything left (`closeAll`). */
  add<T extends Closable>(file: T): T {
    this.open.add(file);
    return file;
  }

  /** `file` was closed by whoever used it: nothing left to do for it. */
  closed(file: Closable): void {
    this.open.delete(file);
  }

  /** Closes every file still open; how many. */
  closeAll(): number {
    const left = [...this.open];
    this.open.clear();
    for (const f of left) f.close();
    return left.length;
  }
}
