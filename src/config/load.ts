// Loads gamelayer.yaml: YAML with positions, schema validation, cross-field rules, paths resolved.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { GamelayerError, errnoCode } from '../errors.js';
import { TREE_NAMES, type TreeName } from '../types.js';
import { isSameOrInside, realPathOfExisting } from '../util/real-path.js';
import { readBounded } from '../util/read-bounded.js';
import { readSmallFile } from '../util/small-file.js';
import { badUtf8Byte, strictUtf8 } from '../util/utf8-text.js';
import { gamelayerRoot } from '../version.js';
import { bareTargetSizeWarning } from './bare-size.js';
import { deployConfig, deployProblems, writablePathsOf, type DeployConfig } from './deploy.js';
import { configSchema, shownValue, type RawConfig } from './schema.js';
import { readValidatedConfig, saveValidatedConfig } from './validated-cache.js';
import { checkWritablePaths } from './writable-paths.js';
import { once } from '../util/once.js';
import { foreignValues } from './yaml-values.js';

export const CONFIG_FILE = 'gamelayer.yaml';

/**
 * The most a config file may hold. A gamelayer.yaml is a few KiB; `-c` naming a pak or /dev/zero was read whole
 * (600 MiB of memory, then "Invalid string length"), and a FIFO blocked for ever.
 */
export const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

/** Alias expansions allowed in one document (yaml's own default): a small config needs none or a few. */
const MAX_ALIAS_COUNT = 100;

export interface TreeConfig {
  name: TreeName;
  /** Absolute source path per platform; key `*` when one source serves every platform. */
  sources: Record<string, string>;
  include: string[];
  exclude: string[];
  mount: string;
  /**
   * Folders of gamelayer's own (the state folder, the store) that lie inside a source of this tree, relative to
   * it: they are in `exclude` already, listed here so the scan can say so.
   */
  ownFolders?: { path: string; what: string }[];
  /**
   * Set when the tree is chunked (docs/chunks.md): files at or above minFileSize become chunks and a recipe, and
   * the deploy emitters deliver the tree by a copy that assembles them.
   */
  chunks?: { minFileSize: number; avgChunkSize: number };
}

export interface GameConfig {
  /** Absolute path of the config file, or `<stdin>` for `--config -`: what messages name. */
  file: string;
  /** Where relative paths in it start: the file's folder, or the current folder for a config read from stdin. */
  dir: string;
  /** `.gamelayer/` beside the config: caches, records and (by default) the OCI store. */
  stateDir: string;
  game: string;
  version?: string;
  baseImage: string;
  start: string[];
  platforms: string[];
  /** `registry:` as the repository alone (`host/path`): a tag or digest written there is dropped. */
  registry?: string;
  /** `mountFrom:` as repository paths (no host, tag or digest): where a push mounts the blobs its target lacks from. */
  mountFrom?: string[];
  store: string;
  layers: RawConfig['layers'];
  trees: Record<TreeName, TreeConfig>;
  /** The `deploy:` section, checked against the Kubernetes and Agones schemas; undefined when absent. */
  deploy?: DeployConfig;
  /** What the file says that was taken as written but was likely meant otherwise (a bare `layers.targetSize` below 1 MiB). */
  warnings?: string[];
}

/** The source paths of a tree for one platform: the per-platform entry or the shared one. */
export function treeSourceFor(tree: TreeConfig, platform: string): { path: string; shared: boolean } {
  const shared = tree.sources['*'];
  if (shared !== undefined) return { path: shared, shared: true };
  const own = tree.sources[platform];
  if (own === undefined) {
    throw new GamelayerError('config.platform-source', `tree ${tree.name} has no source for platform ${platform}`);
  }
  return { path: own, shared: false };
}

/** Every tree source as a folder no output may go into, with the config field that names it (`trees.app.source`). */
export function treeSourceFolders(config: Pick<GameConfig, 'trees'>): { folder: string; field: string; globs: { include: string[]; exclude: string[]; excludeField: string } }[] {
  return Object.values(config.trees).flatMap((t) =>
    Object.entries(t.sources).map(([platform, folder]) => ({
      folder,
      field: `trees.${t.name}.source${platform === '*' ? '' : `.${platform}`}`,
      // What the scan takes from the folder: an output its globs leave out goes into no image.
      globs: { include: t.include, exclude: t.exclude, excludeField: `trees.${t.name}.exclude` },
    })),
  );
}

/**
 * Where to find an example config: the sample game in a checkout of gamelayer; in an installed package (which
 * ships no fixtures) the README's config section, by the path of the README the package ships.
 */
function exampleConfigHint(): string {
  const root = gamelayerRoot();
  if (existsSync(new URL(`fixtures/sample-game/${CONFIG_FILE}`, root))) return `see fixtures/sample-game/${CONFIG_FILE}`;
  return `see "The game config: ${CONFIG_FILE}" in ${fileURLToPath(new URL('README.md', root))}`;
}

/** `--config -`: the config is read from stdin; relative paths in it start at the current folder. */
export const STDIN_CONFIG = '-';
/** What messages call a config read from stdin (`<stdin>:3:5: trees.app.source: …`). */
export const STDIN_CONFIG_NAME = '<stdin>';

/** Stdin is read once: a second load of the config, or a later position in it, reads the same text. */
let stdinConfig: Promise<string> | undefined;

/**
 * How long `-c -` reads stdin before it says so: a slow producer, or a forgotten `-c -` in a script whose stdin is an
 * open pipe, waited without a word.
 */
const STDIN_NOTICE_MS = 2000;

function stdinConfigText(): Promise<string> {
  // A terminal is no config: the command waited without a word for text nobody meant to type.
  if (process.stdin.isTTY) {
    throw new GamelayerError('cli.usage', `-c -: stdin is a terminal; -c - reads the config piped in (envsubst < gamelayer.tmpl | gamelayer -c - build)`, `pipe the config in, or pass -c FILE`);
  }
  if (stdinConfig) return stdinConfig;
  // Once, until the end of input (some may have come); on stderr, beside the command's own output.
  const notice = setTimeout(() => process.stderr.write('reading the config from stdin (-c -)…\n'), STDIN_NOTICE_MS);
  notice.unref();
  stdinConfig = readBounded(process.stdin, CONFIG_MAX_BYTES).finally(() => clearTimeout(notice)).then((read) => {
    if (!Buffer.isBuffer(read)) {
      throw new GamelayerError('config.unreadable', `${STDIN_CONFIG_NAME}: more than ${CONFIG_MAX_BYTES} bytes, more than a config file holds`, `is it the config? pipe your ${CONFIG_FILE} into --config -`);
    }
    return configText(read, STDIN_CONFIG_NAME);
  });
  return stdinConfig;
}

export async function loadConfig(file: string): Promise<GameConfig> {
  if (file === STDIN_CONFIG) return parseConfig(await stdinConfigText(), STDIN_CONFIG_NAME, process.cwd());
  const abs = path.resolve(file);
  let read: Awaited<ReturnType<typeof readSmallFile>>;
  try {
    read = await readSmallFile(abs, CONFIG_MAX_BYTES);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      throw new GamelayerError(
        'config.missing',
        `${abs}: no such file`,
        `run gamelayer init in the build folder to write one, create a ${CONFIG_FILE} (${exampleConfigHint()}), or pass --config FILE`,
      );
    }
    throw new GamelayerError('config.unreadable', `${abs}: cannot read: ${(e as Error).message}`);
  }
  if ('notFile' in read) {
    if (read.notFile === 'a directory') {
      throw new GamelayerError('config.unreadable', `${abs}: is a folder, not a config file`, `pass the file: --config ${path.join(abs, CONFIG_FILE)}`);
    }
    throw new GamelayerError('config.unreadable', `${abs}: is ${read.notFile}, not a config file`, `write the config to a file and pass that: relative paths in it start at its folder`);
  }
  if ('tooBig' in read) {
    throw new GamelayerError(
      'config.unreadable',
      `${abs}: ${read.tooBig} bytes, more than a config file holds (at most ${CONFIG_MAX_BYTES})`,
      `is it the config? pass your ${CONFIG_FILE} with --config FILE`,
    );
  }
  const text = configText(read.bytes, abs);
  // A text this gamelayer validated before is not validated again (validated-cache.ts); its YAML is parsed only
  // for the position of an error found below.
  const known = await readValidatedConfig(abs, text);
  if (known) return configFrom(known, abs, path.dirname(abs), once(() => yamlOf(text, abs)));
  const { raw, yaml } = validatedText(text, abs);
  const config = configFrom(raw, abs, path.dirname(abs), () => yaml);
  await saveValidatedConfig(abs, text, raw);
  return config;
}

/**
 * The config's bytes as UTF-8 text. A lenient decode made each bad byte U+FFFD: `source: café` saved as Latin-1
 * named a folder "caf\uFFFD" that did not exist, and a UTF-16 file was one long string of NULs "expected a map".
 */
function configText(bytes: Buffer, file: string): string {
  const text = strictUtf8(bytes);
  if (text !== undefined) return text;
  const at = badUtf8Byte(bytes);
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  const before = bytes.subarray(0, at);
  const line = before.filter((b) => b === 0x0a).length + 1;
  const col = at - (before.lastIndexOf(0x0a) + 1) + 1;
  throw new GamelayerError(
    'config.yaml',
    utf16
      ? `${file}: not UTF-8 text: it starts with a UTF-16 byte order mark (saved as UTF-16, "Unicode" in some editors); ${CONFIG_FILE} is UTF-8`
      : `${file}:${line}:${col}: not UTF-8 text: byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')} (byte ${at + 1} of the file) is not valid UTF-8; ${CONFIG_FILE} is UTF-8`,
    `save the file as UTF-8 (iconv -f ${utf16 ? 'UTF-16' : 'LATIN1'} -t UTF-8, or your editor's encoding setting) and run again`,
  );
}

/** Parses and validates config text; `file` is used for messages, `dir` (default: the file's folder) to resolve relative paths. */
export function parseConfig(text: string, file: string, dir = path.dirname(file)): GameConfig {
  const { raw, yaml } = validatedText(text, file);
  return configFrom(raw, file, dir, () => yaml);
}

/** The config's YAML document, and where an offset in it is (`file:line:col`), for messages. */
interface ConfigYaml {
  doc: Document;
  lines: LineCounter;
  where: (offset: number | undefined) => string;
}

function yamlOf(text: string, file: string): ConfigYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return `${file}`;
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  return { doc, lines, where };
}

/** What the config's text says, checked by every rule that reads the text alone (YAML, schema, deploy section). */
function validatedText(text: string, file: string): { raw: RawConfig; yaml: ConfigYaml } {
  const yaml = yamlOf(text, file);
  const { doc, where } = yaml;
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // The library's own words for a second document name one of its functions: say what it means for the file.
    if (e.code === 'MULTIPLE_DOCS') {
      throw new GamelayerError('config.yaml', `${where(e.pos[0])}: invalid YAML: a second document starts here (---); ${path.basename(file)} is one document`, 'remove the second document, or the --- line that starts it');
    }
    throw new GamelayerError('config.yaml', `${where(e.pos[0])}: invalid YAML: ${firstLine(e.message)}`);
  }
  // Before toJS: a Buffer, Date or Set reached the schema as "a map", and `!foo bar` as the plain string "bar".
  const foreign = foreignValues(doc);
  if (foreign.length > 0) {
    throw new GamelayerError(
      'config.invalid',
      foreign.map((f) => `${where(f.offset)}: ${f.field}: ${f.what}; expected ${f.expected}`).join('\n'),
      `write plain values and field names: drop the tag, and quote a string YAML would read as something else ("2001-12-14"); then run again`,
    );
  }
  let plain: unknown;
  try {
    // yaml refuses documents whose aliases expand beyond a limit (a "billion laughs" bomb) with a plain error.
    plain = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new GamelayerError(
      'config.yaml',
      `${file}: invalid YAML: its aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies of anchored nodes (${(e as Error).message})`,
      'write the values out instead of repeating anchors: gamelayer.yaml needs few or no aliases',
    );
  }
  const result = configSchema().safeParse(plain ?? {});
  if (!result.success) {
    const messages = result.error.issues.map((issue) => describeIssue(issue, doc, where));
    throw new GamelayerError('config.invalid', messages.join('\n'), `fix ${path.basename(file)} and run again`);
  }
  const raw = result.data;
  if (raw.deploy) {
    const problems = deployProblems(raw.deploy);
    if (problems.length > 0) {
      const messages = problems.map((pr) => {
        const p = pr.path.map(String);
        const key = keyOffsetOf(doc, p.slice(0, -1), p.at(-1)!);
        const offset = (pr.atKey ? key : undefined) ?? offsetOf(doc, p) ?? key ?? nearestOffset(doc, p);
        // `value: 7777` in an env entry: Kubernetes wants the string "7777".
        const value = doc.getIn(p);
        const quote = pr.message === 'must be string' && (typeof value === 'number' || typeof value === 'boolean') ? quoteHint(doc, p) : '';
        return `${where(offset)}: ${p.join('.')}: ${pr.message}${quote}`;
      });
      throw new GamelayerError('config.invalid', messages.join('\n'), `fix ${path.basename(file)} and run again`);
    }
  }
  return { raw, yaml };
}

/** The config `raw` (validated text) stands for, with the checks that read the file system; `yaml` for messages. */
function configFrom(raw: RawConfig, file: string, dir: string, yaml: () => ConfigYaml): GameConfig {
  const where = (offset: (doc: Document) => number | undefined) => yaml().where(offset(yaml().doc));
  const trees = {} as Record<TreeName, TreeConfig>;
  const mounts = new Map<string, TreeName>();
  for (const name of TREE_NAMES) {
    const t = raw.trees[name];
    const mount = normaliseMount(t.mount ?? `/opt/local/${name}`);
    const other = mounts.get(mount);
    if (other) {
      throw new GamelayerError(
        'config.mount-clash',
        `${where((doc) => offsetOf(doc, ['trees', name, 'mount']) ?? offsetOf(doc, ['trees', name]))}: trees.${name}.mount: ` +
          `${mount} is also the mount of tree ${other}; expected a distinct mount path per tree`,
      );
    }
    mounts.set(mount, name);
    const sources: Record<string, string> = {};
    if (typeof t.source === 'string') {
      sources['*'] = path.resolve(dir, t.source);
    } else {
      if (name === 'engine-media' || name === 'app-media') {
        throw new GamelayerError(
          'config.media-per-platform',
          `${where((doc) => offsetOf(doc, ['trees', name, 'source']))}: trees.${name}.source: ` +
            `expected one path: media trees are shared between platforms`,
        );
      }
      for (const p of raw.platforms) {
        const src = t.source[p];
        if (src === undefined) {
          throw new GamelayerError(
            'config.platform-source',
            `${where((doc) => offsetOf(doc, ['trees', name, 'source']))}: trees.${name}.source: no source for platform ${p}; ` +
              `expected one entry per platform in "platforms" (${raw.platforms.join(', ')})`,
          );
        }
        sources[p] = path.resolve(dir, src);
      }
      // A source for a platform the game is not built for was dropped without a word (arm64's engine added, the
      // platform not): the build went on for amd64 alone.
      for (const p of Object.keys(t.source)) {
        if (!raw.platforms.includes(p)) {
          throw new GamelayerError(
            'config.platform-source',
            `${where((doc) => offsetOf(doc, ['trees', name, 'source', p]) ?? offsetOf(doc, ['trees', name, 'source']))}: trees.${name}.source: ${p} is not in "platforms" (${raw.platforms.join(', ')}); its source would never be built`,
            `add ${p} to platforms, or remove its entry`,
          );
        }
      }
    }
    if (t.chunks && name === 'engine') {
      throw new GamelayerError(
        'config.chunks-engine',
        `${where((doc) => offsetOf(doc, ['trees', name, 'chunks']))}: trees.engine.chunks: the engine tree cannot be chunked: its image is what the engine container runs, with no copy step to assemble files`,
        'remove trees.engine.chunks; chunk engine-media, app or app-media instead',
      );
    }
    trees[name] = { name, sources, include: t.include, exclude: t.exclude, mount, ...(t.chunks ? { chunks: t.chunks } : {}) };
  }
  claimNestedMounts(trees);
  const deploy = raw.deploy ? deployConfig(raw.deploy) : undefined;
  const writableWarnings = checkWritablePaths(writablePathsOf(deploy), deploy?.writablePaths !== undefined, trees, (field) => where((doc) => offsetOf(doc, field)));
  const stateDir = path.join(dir, '.gamelayer');
  const store = path.resolve(dir, raw.store);
  // A folder of gamelayer's own that IS a tree's source cannot be left out of it (the whole tree would go): the
  // store there was built into the tree's image, build after build, and its index.json written over the game's.
  for (const name of TREE_NAMES) {
    for (const source of Object.values(trees[name].sources)) {
      // Real paths: `store: oci-link` with oci-link -> app got past a comparison of the paths as written.
      if (source === store || realPathOfExisting(source) === realPathOfExisting(store)) {
        throw new GamelayerError(
          'config.invalid',
          `${where((doc) => offsetOf(doc, ['store']) ?? offsetOf(doc, ['trees', name, 'source']))}: store: ${store} is the source of trees.${name}: ` +
            `the local OCI store would be written into the tree's folder and built into its image; expected a folder of its own, such as .gamelayer/oci`,
          'fix gamelayer.yaml and run again',
        );
      }
      if (source === stateDir || realPathOfExisting(source) === realPathOfExisting(stateDir)) {
        throw new GamelayerError(
          'config.invalid',
          `${where((doc) => offsetOf(doc, ['trees', name, 'source']))}: trees.${name}.source: ${source} is gamelayer's state folder (caches, records, the store): expected the tree's own folder`,
          'fix gamelayer.yaml and run again',
        );
      }
    }
  }
  const bareSize = bareTargetSizeWarning(yaml, file, raw.layers.targetSize);
  for (const name of TREE_NAMES) excludeOwnFolders(trees[name], [
    { folder: stateDir, what: "gamelayer's state folder" },
    { folder: store, what: 'the local OCI store' },
  ]);
  return {
    file,
    dir,
    stateDir,
    game: raw.game,
    version: raw.version,
    baseImage: raw.baseImage,
    start: raw.start,
    platforms: raw.platforms,
    registry: raw.registry === undefined ? undefined : repositoryOnly(raw.registry),
    ...(raw.mountFrom?.length ? { mountFrom: [...new Set(raw.mountFrom.map(repositoryPath))] } : {}),
    store,
    layers: raw.layers,
    trees,
    ...(deploy ? { deploy } : {}),
    ...(bareSize || writableWarnings.length ? { warnings: [...(bareSize ? [bareSize] : []), ...writableWarnings] } : {}),
  };
}

/**
 * Where the config file writes a field (`gamelayer.yaml:LINE:COL`, or where its nearest parent is), for an error
 * found after loading (a source that does not exist); the file alone when it cannot be read again.
 */
export async function configPosition(file: string, field: string[]): Promise<string> {
  const text = file === STDIN_CONFIG_NAME ? await stdinConfig?.catch(() => undefined) : await readSmallFile(file, CONFIG_MAX_BYTES).then((r) => ('bytes' in r ? r.bytes.toString('utf8') : undefined), () => undefined);
  if (text === undefined) return file;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const offset = offsetOf(doc, field) ?? nearestOffset(doc, field);
  if (offset === undefined) return file;
  const p = lines.linePos(offset);
  return `${file}:${p.line}:${p.col}`;
}

/**
 * A tree whose source holds gamelayer's own folders (`app: {source: .}`, `store: app/oci`) would hash its own
 * caches and store, which change while it scans: they are left out of the tree, and the scan says so.
 */
function excludeOwnFolders(tree: TreeConfig, own: { folder: string; what: string }[]): void {
  for (const source of new Set(Object.values(tree.sources))) {
    for (const { folder, what } of own) {
      // Real paths: a store named through a symlink (`store: link/oci`, link -> app) is inside app all the same.
      const [outer, inner] = [realPathOfExisting(source), realPathOfExisting(folder)];
      if (outer === inner || !isSameOrInside(outer, inner)) continue; // the same folder is refused where it is named
      const rel = path.relative(outer, inner);
      const posix = rel.split(path.sep).join('/');
      if (tree.ownFolders?.some((f) => posix === f.path || posix.startsWith(`${f.path}/`))) continue; // inside one already left out
      const glob = posix.replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
      tree.exclude = [...tree.exclude, glob, `${glob}/**`];
      // Said only when the tree's include globs would take it (a tree that lists its files never sees it).
      if (picomatch(tree.include, { dot: true })(`${posix}/x`)) (tree.ownFolders ??= []).push({ path: posix, what });
    }
  }
}

/**
 * A tree mounted inside another's (Unreal: engine media at <game>/Engine/Content inside the engine at <game>/Engine)
 * owns that path: the outer tree leaves it out (its files there would shadow or be shadowed by the inner tree's,
 * depending on layer order), so no layer of the outer tree ever holds a path of the inner one. Whiteouts of the
 * outer tree's folders above an inner mount are refused by the planner (plan.path-outside).
 */
function claimNestedMounts(trees: Record<TreeName, TreeConfig>): void {
  for (const outer of TREE_NAMES) {
    for (const inner of TREE_NAMES) {
      if (inner === outer || trees[outer].mount === trees[inner].mount || !isSameOrInside(trees[outer].mount, trees[inner].mount)) continue;
      const rel = path.posix.relative(trees[outer].mount, trees[inner].mount).replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
      trees[outer].exclude = [...trees[outer].exclude, rel, `${rel}/**`];
    }
  }
}

/**
 * `registry:` as the repository alone: a tag or digest written there (`host/game:v1`) was dropped by push and the
 * buildspec but refused by k8s, ecs, imagedefinitions, load and run-local, far from the line that wrote it.
 */
function repositoryOnly(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * A `mountFrom:` entry's repository path: a mount names a repository of the registry pushed to, so a host written
 * before it (the other game's `registry:` line copied whole) is dropped, as are a tag and a digest.
 */
function repositoryPath(ref: string): string {
  const repo = repositoryOnly(ref);
  const slash = repo.indexOf('/');
  const first = slash < 0 ? '' : repo.slice(0, slash);
  return first !== '' && (/[.:]/.test(first) || first === 'localhost') ? repo.slice(slash + 1) : repo;
}

function normaliseMount(m: string): string {
  const n = path.posix.normalize(m);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document, where: (o?: number) => string): string {
  const p = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const field = [...p, k].join('.');
        const allowed = allowedKeys(p);
        return `${where(keyOffsetOf(doc, p, k))}: ${field}: unknown field${allowed ? `; expected one of ${allowed}` : ''}`;
      })
      .join('\n');
  }
  const field = p.join('.') || '(top level)';
  const offset = offsetOf(doc, p) ?? nearestOffset(doc, p);
  let msg = issue.message;
  if (issue.code === 'invalid_type') {
    const value = doc.getIn(p);
    const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
    // `.inf` is a YAML number zod refuses as one: "expected a number, got number null" read as nonsense.
    const finite = typeof value === 'number' && !Number.isFinite(value) && issue.expected === 'number' ? 'a finite number' : expected;
    msg = value === undefined ? `missing; expected ${expected}` : `expected ${finite}, got ${describe(value)}`;
    // `version: 1.10` is the YAML number 1.1: "got number 1.1" named a value the file does not hold.
    if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) msg += quoteHint(doc, p);
  } else if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_value') {
    // A value of the right type but out of range or not one of the choices: say what was given.
    const value = doc.getIn(p);
    if (value !== undefined && (value === null || typeof value !== 'object')) msg = `${msg}, got ${describe(value)}`;
  }
  return `${where(offset)}: ${field}: ${msg}`;
}

/** For a scalar YAML read as a number or true/false where a string is expected: how to write it as one. */
function quoteHint(doc: Document, p: string[]): string {
  const node = doc.getIn(p, true) as { source?: unknown } | undefined;
  const text = typeof node?.source === 'string' ? node.source : undefined;
  return text ? ` (YAML reads ${text} as a ${typeof doc.getIn(p) === 'number' ? 'number' : 'boolean'}: quote it, ${JSON.stringify(text)})` : '';
}

const EXPECTED_WORDS: Record<string, string> = { object: 'a map', array: 'a list', string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false' };

function describe(v: unknown): string {
  if (v === null) return 'null';
  // doc.getIn hands back the YAML's own nodes for collections, not arrays: a sequence node is a list.
  if (Array.isArray(v) || isSeq(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${shownValue(v)}`;
}

function allowedKeys(p: string[]): string | undefined {
  let shape: unknown = configSchema();
  for (const k of p) {
    const s = (shape as { shape?: Record<string, unknown> }).shape;
    shape = s ? unwrap(s[k]) : undefined;
  }
  const s = (shape as { shape?: Record<string, unknown> } | undefined)?.shape;
  return s ? Object.keys(s).join(', ') : undefined;
}

function unwrap(s: unknown): unknown {
  let cur = s as { def?: { innerType?: unknown; type?: string } } | undefined;
  while (cur?.def?.innerType) cur = cur.def.innerType as typeof cur;
  return cur;
}

function offsetOf(doc: Document, p: string[]): number | undefined {
  const node = doc.getIn(p, true) as Node | undefined;
  return node && typeof node === 'object' && 'range' in node && node.range ? node.range[0] : undefined;
}

function keyOffsetOf(doc: Document, parent: string[], key: string): number | undefined {
  const map = parent.length ? doc.getIn(parent, true) : doc.contents;
  if (isMap(map)) {
    for (const item of map.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key.range?.[0];
    }
  }
  return undefined;
}

/** Offset of the deepest existing ancestor: a missing field is reported where its parent is. */
function nearestOffset(doc: Document, p: string[]): number | undefined {
  for (let i = p.length - 1; i >= 0; i--) {
    const o = offsetOf(doc, p.slice(0, i));
    if (o !== undefined) return o;
  }
  return undefined;
}
