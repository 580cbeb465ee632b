// The JSON documents of a base image archive (index.json, manifests, configs; a docker-save manifest.json), kept in
// memory from one walk of the archive. Only members that are JSON (their first byte past white space is `{` or `[`)
// and of at most 4 MiB are kept, and at most 64 MiB of them in all: every member up to 4 MiB was kept, so an archive
// of many small members (a hostile one, or small layers) was held whole in memory (a 210 MB archive of 4 MiB members
// took 314 MB; memory grew with the archive without bound).
import { GamelayerError } from '../errors.js';

/** The largest member read as a document. */
export const MAX_DOCUMENT_MEMBER = 4 << 20;
/** The most document bytes kept from one archive: far above any image's index, manifests and configs. */
export const MAX_ARCHIVE_DOCUMENTS = 64 << 20;

/** Whether a member's first bytes can start a JSON document (white space, then `{` or `[`). */
function looksLikeJson(head: Buffer): boolean {
  for (const b of head) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b;
  }
  return true;
}

export class ArchiveDocuments {
  private readonly kept = new Map<string, Buffer>();
  /** Members of document size left out because they are not JSON: named as such when asked for. */
  private readonly notJson = new Set<string>();
  private total = 0;

  constructor(private readonly file: string) {}

  /** Whether to keep a member of `size` bytes whose first chunk is `head`. */
  wants(name: string, size: number, head: Buffer): boolean {
    if (size > MAX_DOCUMENT_MEMBER) return false;
    if (looksLikeJson(head)) return true;
    this.notJson.add(name);
    return false;
  }

  keep(name: string, bytes: Buffer): void {
    this.total += bytes.length - (this.kept.get(name)?.length ?? 0);
    if (this.total > MAX_ARCHIVE_DOCUMENTS) {
      throw new GamelayerError('base.archive', `${this.file}: holds more than ${MAX_ARCHIVE_DOCUMENTS >> 20} MiB of JSON members; not an image archive`);
    }
    this.kept.set(name, bytes);
    this.notJson.delete(name);
  }

  /** The member's bytes; undefined when the archive has no such member. One that is not JSON is said to be so. */
  get(name: string): Buffer | undefined {
    if (this.notJson.has(name)) throw new GamelayerError('base.json', `${this.file}:${name}: not valid JSON (it does not start with "{" or "[")`);
    return this.kept.get(name);
  }
}
