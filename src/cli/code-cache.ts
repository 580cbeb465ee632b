// A V8 code cache for the CLI bundle (issue 17: a no-op build spent most of its CPU compiling the bundle's
// JavaScript on every run). Node 20 has no module compile cache (`module.enableCompileCache` is Node 22.1+), so the
// bundle's files are CommonJS (scripts/build-dist.mjs) and compiled here through `vm.Script` with the bytecode a
// previous run left: the files stay loaded by `require`, only their compilation is taken over, and only for files
// of the bundle's own folder.
//
// Nothing in the cache is trusted as it is. V8's own check of cached data compares the source's length, not its
// text, and takes damaged bytecode without complaint (measured on Node 20's V8 11.3): so each entry carries the
// sha256 of the source it was made from and of its own bytes, both checked before V8 sees it. The file is read only
// when it is a regular file of the current user that nobody else can write (bytecode is code). A missing, foreign,
// damaged or stale cache is ignored; the run compiles as usual and writes a new cache at its end (temp file +
// rename); a cache that cannot be read or written is never an error.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, constants as fsConstants } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

const MAGIC = 'gamelayer-code-cache/1\n';

/** One compiled file: `source` and `data` are sha256 hex of the source text and of the cached bytes. */
interface Entry {
  file: string;
  source: string;
  data: string;
  bytes: Buffer;
}

interface Header {
  entries: { file: string; source: string; data: string; length: number }[];
}

export interface CodeCache {
  /** The cache file used (undefined: caching is off). */
  readonly file: string | undefined;
  /**
   * Writes the cache when this run compiled a bundle file without usable cached bytecode (missing, stale, damaged
   * or rejected by V8). Best effort: returns whether a file was written, never throws.
   */
  save(): boolean;
  /** Puts Node's own compilation back. */
  uninstall(): void;
}

/**
 * Where the cache lives: GAMELAYER_CODE_CACHE (a folder, or `off`), else $XDG_CACHE_HOME/gamelayer, else
 * ~/.cache/gamelayer. One file per bundle folder, Node version, architecture and Node flags: each install (and each
 * flag set, which V8 would reject) keeps its own.
 */
export function codeCacheFile(bundleDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.GAMELAYER_CODE_CACHE;
  if (setting === 'off' || setting === '0') return undefined;
  let dir = setting;
  if (!dir) {
    const base = env.XDG_CACHE_HOME || (homedirOrEmpty() && path.join(homedirOrEmpty(), '.cache'));
    if (!base) return undefined;
    dir = path.join(base, 'gamelayer');
  }
  const key = createHash('sha256')
    .update(JSON.stringify([bundleDir, process.version, process.versions.v8, process.arch, process.execArgv, env.NODE_OPTIONS ?? '']))
    .digest('hex')
    .slice(0, 24);
  return path.join(path.resolve(dir), `cli-${key}.v8cache`);
}

function homedirOrEmpty(): string {
  try {
    return homedir();
  } catch {
    return '';
  }
}

/**
 * Takes over the compilation of the CommonJS files directly inside `bundleDir` (a real path, as `require` resolves
 * them) for this process, using and then refreshing the cache file.
 */
export function installCodeCache(bundleDir: string, env: NodeJS.ProcessEnv = process.env): CodeCache {
  const file = codeCacheFile(bundleDir, env);
  const cached = file ? readCache(file) : new Map<string, Entry>();
  const compiled = new Map<string, { script: vm.Script; source: string }>();
  let stale = false;

  type Compile = (this: Module, content: string, filename: string) => unknown;
  const proto = Module.prototype as unknown as { _compile: Compile };
  const original = proto._compile;
  proto._compile = function compileWithCache(this: Module, content: string, filename: string): unknown {
    if (!file || path.dirname(filename) !== bundleDir || typeof content !== 'string') return original.call(this, content, filename);
    const name = path.basename(filename);
    const source = sha256(content);
    const entry = cached.get(name);
    // Used only when made from exactly this text and its bytes are the ones written (see the top of this file).
    const usable = entry !== undefined && entry.source === source && sha256(entry.bytes) === entry.data;
    const script = new vm.Script(wrap(content), {
      filename,
      ...(usable ? { cachedData: entry.bytes } : {}),
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (!usable || script.cachedDataRejected) stale = true;
    compiled.set(name, { script, source });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return fn.call(this.exports, this.exports, createRequire(filename), this);
  };

  return {
    file,
    save(): boolean {
      if (!file || !stale) return false;
      try {
        const entries: Entry[] = [];
        for (const [name, c] of compiled) {
          // After the run: the bytecode of every function compiled so far (and of those the old cache held) goes in.
          const bytes = c.script.createCachedData();
          entries.push({ file: name, source: c.source, data: sha256(bytes), bytes });
        }
        // Files other commands loaded stay cached while they are part of the bundle.
        for (const [name, e] of cached) if (!compiled.has(name) && existsSync(path.join(bundleDir, name))) entries.push(e);
        writeCache(file, entries);
        stale = false;
        return true;
      } catch {
        return false;
      }
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

/** The cache's entries, or none when the file is missing, not ours, writable by others or not in this format. */
function readCache(file: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return entries;
    const buf = readFileSync(fd);
    if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return entries;
    const nl = buf.indexOf(10, MAGIC.length);
    if (nl < 0) return entries;
    const header = JSON.parse(buf.subarray(MAGIC.length, nl).toString('utf8')) as Header;
    let at = nl + 1;
    for (const e of header.entries) {
      if (typeof e.file !== 'string' || typeof e.source !== 'string' || typeof e.data !== 'string' || !Number.isSafeInteger(e.length) || e.length < 0) return new Map();
      if (at + e.length > buf.length) return new Map();
      entries.set(e.file, { file: e.file, source: e.source, data: e.data, bytes: buf.subarray(at, at + e.length) });
      at += e.length;
    }
    return entries;
  } catch {
    return new Map();
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCache(file: string, entries: Entry[]): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const header: Header = { entries: entries.map((e) => ({ file: e.file, source: e.source, data: e.data, length: e.bytes.length })) };
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    for (const part of [Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), ...entries.map((e) => e.bytes)]) {
      for (let off = 0; off < part.length; ) off += writeSync(fd, part, off);
    }
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
