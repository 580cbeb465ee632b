// Storage sizes computed from the trees' real byte and entry counts, never guessed.
import { ASSEMBLY_WORKERS } from './assemble-script.js';
import type { DeployTree } from './input.js';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** A file system stores each file in whole blocks: an entry wastes at most one block (ext4/xfs default: 4 KiB). */
export const BLOCK = 4096;
/** Safety margin on top of the block-rounded size: file-system metadata, journal, inode tables. */
export const MARGIN = 0.1;

/**
 * Upper bound of the disk space a copy of the tree takes: bytes + one block per entry for rounding,
 * plus MARGIN, rounded up to whole MiB.
 */
export function treeDiskBytes(tree: Pick<DeployTree, 'bytes' | 'entries'>): number {
  const rounded = tree.bytes + tree.entries * BLOCK;
  return Math.ceil((rounded * (1 + MARGIN)) / MiB) * MiB;
}

/**
 * Disk space of a copy of the tree: a chunked tree's copy holds its files assembled (not its chunks and recipes),
 * any other tree's copy holds what its image holds. A chunked tree's copy restarted midway (its init container
 * restarted, its emptyDir kept) writes each big file again beside the one its first run completed before renaming
 * over it: at its peak it holds the largest of them twice (`assembled.rewrite`). Without that room the kubelet
 * evicted the pod for passing the volume's sizeLimit.
 */
export function treeCopyDiskBytes(tree: Pick<DeployTree, 'bytes' | 'entries' | 'assembled'>): number {
  const a = tree.assembled;
  const copy = a ? { bytes: a.bytes + a.rewrite, entries: a.entries + ASSEMBLY_WORKERS } : tree;
  // Never 0: the copy writes its sentinel (.complete, a block) even into an empty tree's volume, and the kubelet
  // enforces an emptyDir sizeLimit only when it is above 0 (`sizeLimit: 0Mi` reads as empty, works as no limit).
  // One block rounded up to whole MiB, as every size here, is 1 MiB.
  return Math.max(treeDiskBytes(copy), MiB);
}

/** A Kubernetes quantity in Mi; inputs are whole MiB already, so the value is exact. */
export function quantityMi(bytes: number): string {
  return `${Math.ceil(bytes / MiB)}Mi`;
}
