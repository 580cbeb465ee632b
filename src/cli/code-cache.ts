// A V8 code cache for the CLI bundle (issue 17: a no-op build spent most of its CPU compiling the bundle's
// JavaScript on every run). Node 20 has no module compile cache (`module.enableCompileCache` is Node 22.1+), so the
// bundle's files are CommonJS (scripts/build-dist.mjs) and compiled here through `vm.Script` with the bytecode a
// previous run left: the files stay loaded by `require`, only their compilation is taken over, and only for files
// of the bundle's own folder.
//
// One cache file per bundle file, read only when that file is loaded (a command reads the bytecode of what it runs,
// not of every command). Nothing in it is trusted as it is. V8's own check of cached data compares the source's
// length, not its text, and takes damaged bytecode without complaint (measured on Node 20's V8 11.3): so each entry
// carries the sha256 of the source it was made from and of its own bytes, both checked before V8 sees it. An entry is
// read only when it is a regular file of the current user that nobody else can write (bytecode is code). A missing,
// foreign, damaged or stale entry is ignored: the file compiles as usual and its entry is written anew at the end of
// the run (temp file + rename). A cache that cannot be read or written is never an error.
//
// Bytecode exists only for the functions a run called, so an entry also names the commands whose runs went into it:
// the first run of another command that loads the file writes it again, with that command's functions added (V8
// serialises what the run compiled plus what the old entry held). After one run of each command, nothing is written.
//
// Hashing every loaded file and entry (2 MB of source, 1.4 MB of bytecode for a no-op build) cost about 10 ms of CPU
// a run, so a check that passed is remembered (`verified.json`): the identity of the source file and of the entry
// file (device, inode, size, mtime and ctime in ns) beside the two hashes it checked. While both files keep those
// identities, the next run takes the entry without hashing; any write to either changes its ctime, which no user
// call can set back, so it is hashed again. An identity is remembered only for a file left unchanged for
// SETTLED_MS before the check: the bytes hashed were then read after its last change (a change while we read it
// would leave a ctime within the last moments, and ctime has the kernel tick's granularity).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync, constants as fsConstants, type BigIntStats } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { fileIdentity } from '../util/file-identity.js';

const MAGIC = 'gamelayer-code-cache/2\n';
const SUFFIX = '.v8cache';
/** The checks that passed: bundle file name → identities and hashes (see the top of this file). */
const VERIFIED = 'verified.json';
const VERIFIED_FORMAT = 'gamelayer-code-cache-verified/1';
/** A file's identity stands for its bytes only once it has been left unchanged this long. */
export const SETTLED_MS = 2_000;

/** A check that passed: the entry file with identity `entry`, made from the source file with identity `source`. */
interface Verified {
  source: string;
  entry: string;
  /** The entry's header then: sha256 of the source and of the bytecode. */
  sourceHash: string;
  dataHash: string;
}

interface Header {
  /** sha256 hex of the source text the bytecode was made from. */
  source: string;
  /** sha256 hex of the bytecode that follows the header. */
  data: string;
  length: number;
  /** The commands whose runs are in this entry. */
  commands: string[];
}

export interface CodeCache {
  /** The cache folder (undefined: caching is off). */
  readonly dir: string | undefined;
  /**
   * Writes the entries this run should: files compiled without usable cached bytecode (missing, stale, damaged or
   * rejected by V8), and files whose entry no run of `command` went into yet. Best effort: returns how many entries
   * were written, never throws.
   */
  save(command: string): number;
  /** Puts Node's own compilation back. */
  uninstall(): void;
}

/**
 * Where the cache lives: GAMELAYER_CODE_CACHE (a folder, or `off`), else $XDG_CACHE_HOME/gamelayer, else
 * ~/.cache/gamelayer; in it a folder per bundle folder, Node version and architecture: each install keeps its own.
 * Node's flags are not part of the key (`-r` and the like would split it for nothing): bytecode made under other V8
 * flags (`--max-old-space-size` in NODE_OPTIONS, say) is rejected by V8, compiled afresh and its entry rewritten, so
 * runs that alternate flag sets recompile every time (measured: a no-op `build --push` 0.21 → 0.28 s of CPU).
 */
export function codeCacheDir(bundleDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.GAMELAYER_CODE_CACHE;
  if (setting === 'off' || setting === '0') return undefined;
  let base = setting;
  if (!base) {
    const home = homedirOrEmpty();
    const cacheHome = env.XDG_CACHE_HOME || (home && path.join(home, '.cache'));
    if (!cacheHome) return undefined;
    base = path.join(cacheHome, 'gamelayer');
  }
  const key = createHash('sha256')
    .update(JSON.stringify([bundleDir, process.version, process.versions.v8, process.arch]))
    .digest('hex')
    .slice(0, 24);
  return path.join(path.resolve(base), `cli-${key}`);
}

function homedirOrEmpty(): string {
  try {
    return homedir();
  } catch {
    return '';
  }
}

interface Compiled {
  script: vm.Script;
  source: string;
  /** Commands already in the entry used (none: compiled without one). */
  commands: string[];
  /** Compiled without usable cached bytecode. */
  stale: boolean;
}

/**
 * Takes over the compilation of the CommonJS files directly inside `bundleDir` (a real path, as `require` resolves
 * them) for this process, using and then refreshing their cache entries.
 */
export function installCodeCache(bundleDir: string, env: NodeJS.ProcessEnv = process.env): CodeCache {
  const dir = codeCacheDir(bundleDir, env);
  const compiled = new Map<string, Compiled>();

  type Compile = (this: Module, content: string, filename: string) => unknown;
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  let verified: Map<string, Verified> | undefined;
  let verifiedChanged = false;
  proto._compile = function compileWithCache(this: Module, content: string, filename: string): unknown {
    if (!dir || path.dirname(filename) !== bundleDir || typeof content !== 'string') return original.call(this, content, filename);
    const name = path.basename(filename);
    verified ??= readVerified(path.join(dir, VERIFIED));
    const entry = readEntry(path.join(dir, name + SUFFIX));
    // Used only when made from exactly this text and its bytes are the ones written (see the top of this file):
    // checked by hashing both, or known from a check that passed on these same two files.
    let usable = false;
    let source: string | undefined;
    if (entry) {
      const sourceStat = statOrUndefined(filename);
      const known = verified.get(name);
      if (
        known !== undefined &&
        sourceStat !== undefined &&
        known.entry === fileIdentity(entry.stat) &&
        known.source === fileIdentity(sourceStat) &&
        known.sourceHash === entry.header.source &&
        known.dataHash === entry.header.data
      ) {
        usable = true;
      } else {
        source = sha256(content);
        usable = entry.header.source === source && sha256(entry.bytes) === entry.header.data;
        const settledBefore = BigInt(Date.now() - SETTLED_MS) * 1_000_000n;
        if (usable && sourceStat !== undefined && entry.stat.ctimeNs < settledBefore && sourceStat.ctimeNs < settledBefore) {
          verified.set(name, { source: fileIdentity(sourceStat), entry: fileIdentity(entry.stat), sourceHash: entry.header.source, dataHash: entry.header.data });
          verifiedChanged = true;
        }
      }
      if (usable) source = entry.header.source;
    }
    const script = new vm.Script(wrap(content), {
      filename,
      ...(usable ? { cachedData: entry!.bytes } : {}),
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    const stale = !usable || script.cachedDataRejected === true;
    compiled.set(name, { script, source: source ?? sha256(content), commands: stale ? [] : entry!.header.commands, stale });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return fn.call(this.exports, this.exports, createRequire(filename), this);
  };

  return {
    dir,
    save(command: string): number {
      if (!dir) return 0;
      let written = 0;
      try {
        for (const [name, c] of compiled) {
          if (!c.stale && c.commands.includes(command)) continue;
          if (written === 0) {
            mkdirSync(dir, { recursive: true, mode: 0o700 });
            dropEntriesOfRemovedFiles(dir, bundleDir);
            dropIdleFolders(dir);
          }
          // After the run: the bytecode of every function compiled so far (and of those the old entry held).
          const bytes = c.script.createCachedData();
          writeEntry(path.join(dir, name + SUFFIX), { source: c.source, data: sha256(bytes), length: bytes.length, commands: [...c.commands, command] }, bytes);
          written++;
          // A new entry file: its check is to come.
          if (verified?.delete(name)) verifiedChanged = true;
        }
        if (verifiedChanged && verified) writeVerified(path.join(dir, VERIFIED), verified);
      } catch {
        // Not written: the next run compiles these files as usual and tries again.
      }
      return written;
    },
    uninstall(): void {
      proto._compile = original;
    },
  };
}

/**
 * Node's CommonJS wrapper without its last two names: no file of the bundle uses them (build-dist.mjs gives each
 * file its own URL through `module.filename`; test/cli-bundle.test.ts keeps it so).
 */
function wrap(content: string): string {
  return `(function (exports, require, module) { ${content}\n})`;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}


function statOrUndefined(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** A regular file of the current user that nobody else can write, read whole; else undefined (bytecode is code). */
function readOwnFile(file: string): { buf: Buffer; stat: BigIntStats } | undefined {
  let fd: number | undefined;
  try {
    // Not blocking: a fifo in the entry's place would hold the open until someone writes to it (fstat refuses it).
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    const stat = fstatSync(fd, { bigint: true });
    const uid = process.getuid?.();
    if (!stat.isFile() || (uid !== undefined && Number(stat.uid) !== uid) || (Number(stat.mode) & 0o022) !== 0) return undefined;
    return { buf: readFileSync(fd), stat };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An entry, or undefined when it is missing, not ours, writable by others or not in this format. */
function readEntry(file: string): { header: Header; bytes: Buffer; stat: BigIntStats } | undefined {
  const own = readOwnFile(file);
  if (!own) return undefined;
  const { buf, stat } = own;
  try {
    if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return undefined;
    const nl = buf.indexOf(10, MAGIC.length);
    if (nl < 0) return undefined;
    const header = JSON.parse(buf.subarray(MAGIC.length, nl).toString('utf8')) as Header;
    const bytes = buf.subarray(nl + 1);
    const wellFormed =
      typeof header.source === 'string' &&
      typeof header.data === 'string' &&
      header.length === bytes.length &&
      Array.isArray(header.commands) &&
      header.commands.every((c) => typeof c === 'string');
    return wellFormed ? { header, bytes, stat } : undefined;
  } catch {
    return undefined;
  }
}

/** The checks that passed (empty when the file is missing, not ours, writable by others or not in this format). */
function readVerified(file: string): Map<string, Verified> {
  const out = new Map<string, Verified>();
  const own = readOwnFile(file);
  if (!own) return out;
  try {
    const doc = JSON.parse(own.buf.toString('utf8')) as { format?: unknown; files?: unknown };
    if (doc.format !== VERIFIED_FORMAT || typeof doc.files !== 'object' || doc.files === null) return out;
    for (const [name, v] of Object.entries(doc.files as Record<string, Partial<Verified>>)) {
      if (typeof v?.source === 'string' && typeof v.entry === 'string' && typeof v.sourceHash === 'string' && typeof v.dataHash === 'string') {
        out.set(name, { source: v.source, entry: v.entry, sourceHash: v.sourceHash, dataHash: v.dataHash });
      }
    }
  } catch {
    out.clear();
  }
  return out;
}

function writeVerified(file: string, verified: Map<string, Verified>): void {
  const text = JSON.stringify({ format: VERIFIED_FORMAT, files: Object.fromEntries([...verified].sort(([a], [b]) => (a < b ? -1 : 1))) });
  writePrivateFile(file, [Buffer.from(`${text}\n`)]);
}

function writeEntry(file: string, header: Header, bytes: Buffer): void {
  writePrivateFile(file, [Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), bytes]);
}

/** `parts` as the file's new content, readable by its owner only: a temp file beside it, renamed over it. */
function writePrivateFile(file: string, parts: Buffer[]): void {
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  let open = true;
  try {
    for (const part of parts) {
      for (let off = 0; off < part.length; ) off += writeSync(fd, part, off);
    }
    closeSync(fd);
    open = false;
    renameSync(tmp, file);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A folder of another install not written for this long goes (see dropIdleFolders). */
export const IDLE_FOLDER_MS = 90 * 86_400_000;

/**
 * The folders of other installs (another bundle folder or Node version) left unwritten for IDLE_FOLDER_MS: each
 * install, npx run or Node upgrade made one of about 2 MB and nothing removed them. Run when this install writes
 * (a new install writes at once). A folder removed while still in use only costs its install one compile.
 */
function dropIdleFolders(dir: string): void {
  const base = path.dirname(dir);
  const idleBefore = Date.now() - IDLE_FOLDER_MS;
  for (const f of readdirSync(base)) {
    const folder = path.join(base, f);
    if (folder === dir || !/^cli-[0-9a-f]{24}$/.test(f)) continue;
    try {
      const st = statSync(folder, { throwIfNoEntry: false });
      if (st?.isDirectory() && st.mtimeMs < idleBefore) rmSync(folder, { recursive: true, force: true });
    } catch {
      // Another user's folder, say: left as it is; this install's own entries are still written.
    }
  }
}

/** Entries of files the bundle no longer has (an earlier build's chunks), and temp files older than a day. */
function dropEntriesOfRemovedFiles(dir: string, bundleDir: string): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const f of readdirSync(dir)) {
    const file = path.join(dir, f);
    if (f.endsWith(SUFFIX) && !existsSync(path.join(bundleDir, f.slice(0, -SUFFIX.length)))) rmSync(file, { force: true });
    // A run killed between writing and renaming left it.
    else if (f.endsWith('.tmp') && (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? dayAgo) < dayAgo) rmSync(file, { force: true });
  }
}
