// Upload sessions kept across runs (`.gamelayer/uploads/`): a chunked upload that a killed process left part-way is
// continued by the next push of the same blob instead of sent again from byte 0 (upload.ts decides whether the
// registry still has it). One small file per session, replaced atomically after every acknowledged chunk, so
// parallel uploads never rewrite each other's entries. Every entry is local state: read bounded, checked field by
// field against what is being pushed, and dropped (never an error) when it does not fit.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { filesByAge } from '../util/files-by-age.js';
import { readSmallFile } from '../util/small-file.js';
import { isDigest } from '../oci/layout.js';

/** The blob a session is for: where, what, and under which credential. */
export interface UploadKey {
  registry: string;
  repository: string;
  digest: string;
  size: number;
  /** Who opened it (a hash of the user name): another credential's session is not ours to continue. */
  identity: string;
}

/** What one entry holds: its key, and `held`, the byte count the registry acknowledged (the next chunk starts there). */
export interface SavedUpload extends UploadKey {
  version: 1;
  url: string;
  held: number;
  at: string;
}

/** An entry is a few hundred bytes; anything bigger is not ours. */
const MAX_ENTRY_BYTES = 16 * 1024;
/** An upload URL longer than this is not kept (the entry stays small). */
const MAX_URL_CHARS = 8 * 1024;
/** Registries purge idle uploads (distribution after 168 h by default): older entries are swept. */
const SESSION_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** At most this many entries are kept; the oldest go first. */
const MAX_SESSIONS = 64;

/** `.gamelayer/uploads` beside the other state. */
export function uploadSessionsDir(stateDir: string): string {
  return path.join(stateDir, 'uploads');
}

/** The sessions kept in a state folder (in `uploadSessionsDir`); none without one. */
export function stateUploadSessions(stateDir: string | undefined): UploadSessions | undefined {
  return stateDir ? new UploadSessions(uploadSessionsDir(stateDir)) : undefined;
}

/** The credential's part of a key: a hash, so no user name is written in the state folder. */
export function identityOf(name: string | undefined): string {
  return createHash('sha256').update(`gamelayer-upload\n${name ?? ''}`).digest('hex').slice(0, 16);
}

export class UploadSessions {
  private swept = false;
  /** Sessions a note was given about this run: two images (or targets) sharing a blob say it once. */
  private readonly noted = new Set<string>();

  constructor(readonly dir: string) {}

  private file(key: UploadKey): string {
    const h = createHash('sha256').update([key.registry, key.repository, key.digest, key.identity].join('\n')).digest('hex');
    return path.join(this.dir, `${h.slice(0, 32)}.json`);
  }

  /** The session kept for `key`, or why there is none usable (`damaged`: a file that is not a fitting entry). */
  async find(key: UploadKey): Promise<{ saved: SavedUpload } | { none: 'absent' | 'damaged' | 'other' }> {
    const file = this.file(key);
    let read;
    try {
      read = await readSmallFile(file, MAX_ENTRY_BYTES);
    } catch {
      return { none: 'absent' };
    }
    if (!('bytes' in read)) return this.dropAs(file, 'damaged');
    let v: unknown;
    try {
      v = JSON.parse(read.bytes.toString('utf8'));
    } catch {
      return this.dropAs(file, 'damaged');
    }
    const saved = checked(v);
    if (!saved) return this.dropAs(file, 'damaged');
    // The name is a hash of the key, so a fitting file with other fields was copied or edited: not this blob's.
    if (saved.registry !== key.registry || saved.repository !== key.repository || saved.digest !== key.digest || saved.identity !== key.identity || saved.size !== key.size) {
      return this.dropAs(file, 'other');
    }
    if (Date.now() - Date.parse(saved.at) > SESSION_MAX_AGE_MS) return this.dropAs(file, 'other');
    return { saved };
  }

  /** Records the session and what the registry acknowledged; a failure to write only costs the resume. */
  async save(key: UploadKey, url: URL, held: number): Promise<void> {
    if (url.href.length > MAX_URL_CHARS) return this.drop(key);
    const entry: SavedUpload = { version: 1, ...key, url: url.href, held, at: new Date().toISOString() };
    try {
      await this.sweep();
      await writeFileAtomic(this.file(key), `${JSON.stringify(entry)}\n`);
    } catch {
      // The state folder unwritable or full: the upload goes on, it just cannot resume after a kill.
    }
  }

  /** True the first time this run asks about `key`: its note is printed then, not again. */
  firstNote(key: UploadKey): boolean {
    const file = this.file(key);
    if (this.noted.has(file)) return false;
    this.noted.add(file);
    return true;
  }

  async drop(key: UploadKey): Promise<void> {
    await rm(this.file(key), { force: true }).catch(() => {});
  }

  private async dropAs(file: string, why: 'damaged' | 'other'): Promise<{ none: 'damaged' | 'other' }> {
    await rm(file, { force: true }).catch(() => {});
    return { none: why };
  }

  /** Once a run: entries past their age, and past the count, oldest first. */
  private async sweep(): Promise<void> {
    if (this.swept) return;
    this.swept = true;
    const entries = await filesByAge(this.dir, (n) => n.endsWith('.json'));
    const now = Date.now();
    for (const [i, e] of entries.entries()) {
      if (i >= MAX_SESSIONS - 1 || now - e.mtimeMs > SESSION_MAX_AGE_MS) await rm(e.file, { force: true }).catch(() => {});
    }
  }
}

/** The entry when `v` is one, field by field; undefined otherwise. */
function checked(v: unknown): SavedUpload | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length <= MAX_URL_CHARS;
  const count = (k: string) => Number.isSafeInteger(o[k]) && (o[k] as number) >= 0;
  if (o.version !== 1 || !['registry', 'repository', 'digest', 'identity', 'url', 'at'].every(str) || !count('size') || !count('held')) return undefined;
  if (!isDigest(o.digest as string) || Number.isNaN(Date.parse(o.at as string))) return undefined;
  let url: URL;
  try {
    url = new URL(o.url as string);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return o as unknown as SavedUpload;
}
