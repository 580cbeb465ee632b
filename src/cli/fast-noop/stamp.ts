// The stamp of a no-op `build --push` (README.md, "The checked fast path of a no-op build --push"): what the full
// path saw when it last ran this exact command and found nothing to build or send, and what it printed. Kept in the
// game's state folder, one file per command line and folder it was typed in; written by record.ts, read by the fast
// path before any of the CLI loads. The file is checked JSON (util/checked-json.ts's layout: a header line with the
// body's sha256): a damaged or other-version stamp is no stamp. This module loads nothing but Node's own.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readRegularFileSync } from '../../util/small-file.js';

const STAMP_FORMAT = 'gamelayer-fast-noop/4';

/** The registry a check asks. */
export interface RegistryPlace {
  /** Base URL of the registry (https://host or http://host, as the full path's client chose; a default port dropped). */
  url: string;
  /** The host as the reference names it (a `:443` kept): what the full path finds the credentials by. */
  registry: string;
}

/** A registry question the fast path asks again: the tag must still name `digest`. */
export interface TagCheck extends RegistryPlace {
  repository: string;
  tag: string;
  digest: string;
}

/** A layer the record keeps: the registry must still hold it, at this size (what the full path asks of each). */
export interface BlobCheck extends RegistryPlace {
  repository: string;
  digest: string;
  size: number;
}

/** A base image named by tag: its tag must still resolve, per platform, to the manifest the build pinned. */
export interface BaseCheck extends RegistryPlace {
  repository: string;
  tag: string;
  /** platform (os/arch[/variant]) → the manifest digest the build used. */
  platforms: Record<string, string>;
}

export interface Stamp {
  /** Everything that must be equal for the run to be the same no-op: compared whole (key.ts). */
  key: {
    argv: string[];
    cwd: string;
    /** Random per stamp: the key of the environment's HMACs (key.ts keyEnv). */
    salt: string;
    /** Per variable name, the HMAC of its value (never the value: credentials are among them). */
    env: Record<string, string>;
    tty: [boolean, boolean];
    /** Node's version and executable. */
    node: string;
    code: string;
    configFile: string;
    configSha256: string;
  };
  /** Per tree source (as the config resolves it): the sha256 of its lstat walk (tree-walk.ts). */
  trees: Record<string, string>;
  /** The sha256 of the state folder's walk (tree-walk.ts stateWalk). */
  state: string;
  stateDir: string;
  /** Each blob of the local store the pushed images and the record name: its path and identity (tree-walk.ts). */
  storeBlobs: Record<string, string>;
  /** The last-build pointer, naming the stamped build when stamped, and the sha256 of its head (tree-walk.ts headHash). */
  lastBuild: { file: string; head: string };
  /** Folders under the tree sources the walk leaves out: the state folder and the store (gamelayer's own). */
  skip: string[];
  tags: TagCheck[];
  blobs: BlobCheck[];
  /** The record's blob: read again whole and hashed, as the full path reads it on every no-op (and repairs it). */
  recordBlob: BlobCheck;
  bases: BaseCheck[];
  /**
   * The re-run note (state/last-run.ts) the no-op wrote or, as a stamp pass, held: the fast path writes it when it is
   * not there (the state walk leaves it out).
   */
  rerunNote?: { file: string; text: string };
  /** What the run printed, the timings of its summary line cut out (replay.ts). */
  stdout: string[];
  stderr: string;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Where the stamp of `argv` typed in `cwd` lives in the state folder `stateDir`. */
export function stampFile(stateDir: string, cwd: string, argv: readonly string[]): string {
  return path.join(stateDir, 'cache', 'fast-noop', `${sha256(JSON.stringify([cwd, argv])).slice(0, 24)}.json`);
}

/** The stamp in `file`, or why there is none usable. */
export function readStamp(file: string): Stamp | string {
  let text: string;
  try {
    // A regular file only: a FIFO there would hold the command for ever.
    const read = readRegularFileSync(file);
    if ('notFile' in read) return 'stamp is no regular file';
    text = read.bytes.toString('utf8');
  } catch {
    return 'no stamp';
  }
  const nl = text.indexOf('\n');
  let header: { format?: unknown; sha256?: unknown } | undefined;
  try {
    header = nl > 0 ? (JSON.parse(text.slice(0, nl)) as typeof header) : undefined;
  } catch {
    header = undefined;
  }
  if (header?.format !== STAMP_FORMAT) return 'stamp of another format';
  const body = text.slice(nl + 1);
  if (sha256(body) !== header.sha256) return 'stamp damaged (checksum)';
  try {
    return JSON.parse(body) as Stamp;
  } catch {
    return 'stamp damaged (JSON)';
  }
}

/** The stamp's file text: the header, then the body (what util/checked-json.ts writes). */
export function stampText(stamp: Stamp): string {
  const body = JSON.stringify(stamp);
  return `${JSON.stringify({ format: STAMP_FORMAT, sha256: sha256(body) })}\n${body}`;
}
