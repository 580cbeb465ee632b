// A set of paths kept as 64-bit hashes in one typed array: a base layer of a million entries is checked for a path
// named twice in 16-32 MiB, where a Set of the strings held about 100 MiB. Two paths of one layer share a hash with a
// chance of about n²/2⁶⁵ (3e-8 for a million): the set may then say "seen" of a path it was not given once.

/** Open addressing over pairs of 32-bit words; (0, 0) marks a free slot. */
export class PathHashSet {
  private slots = new Uint32Array(2 * 1024);
  private count = 0;

  /** Adds `path`; false when it (or a path of the same hash) was added before. */
  add(path: string): boolean {
    let [a, b] = hashPath(path);
    if (a === 0 && b === 0) a = 1;
    if (2 * (this.count + 1) > this.slots.length / 2) this.grow();
    if (!place(this.slots, a, b)) return false;
    this.count++;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) place(this.slots, old[i]!, old[i + 1]!);
  }
}

/** Puts (a, b) in its slot or the next free one; false when it is there already. */
function place(slots: Uint32Array, a: number, b: number): boolean {
  const mask = slots.length / 2 - 1;
  for (let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
    const x = slots[2 * i]!;
    const y = slots[2 * i + 1]!;
    if (x === 0 && y === 0) {
      slots[2 * i] = a;
      slots[2 * i + 1] = b;
      return true;
    }
    if (x === a && y === b) return false;
  }
}

/** Two 32-bit hashes of the path's UTF-16 code units (FNV-1a and a murmur-style mix), as unsigned numbers. */
function hashPath(path: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ path.length;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x5bd1e995);
  return [h1 >>> 0, (h2 ^ (h2 >>> 16)) >>> 0];
}
