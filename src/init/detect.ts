// `gamelayer init`: recognises the usual dedicated-server build folders and proposes the four trees. It only looks
// (names, sizes, modes, an engine tarball's member names); it never hashes. Where it cannot tell, it defaults and
// says so in a note that also goes into the written yaml as a comment.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { GAME_MAX } from '../config/schema.js';
import type { TreeName } from '../types.js';
import type { ChunkChoice } from './chunk-choice.js';
import { EMPTY_TREE_DIR } from './empty-tree-dir.js';

export { EMPTY_TREE_DIR };

export type LayoutKind = 'unreal' | 'o3de' | 'unity' | 'unknown';

export interface TreeProposal {
  /** Relative to the folder the yaml goes into (POSIX separators); `null` when the tree needs an empty folder. */
  source: string;
  include?: string[];
  exclude?: string[];
  mount?: string;
  /** One line for the yaml comment: what this tree holds and why. */
  why: string;
}

export interface InitProposal {
  dir: string;
  layout: LayoutKind;
  /** What gave the layout away, for people. */
  evidence: string;
  game: string;
  start: string[];
  trees: Record<TreeName, TreeProposal>;
  /** Guesses and defaults the user should check. */
  notes: string[];
  /** Folders (relative) that init creates empty, for trees this build has nothing for. */
  emptyDirs: string[];
  /** Set when app-media holds a file of 64 MiB or more: chunked, or whole files as `--whole-files` asked. */
  chunks?: ChunkChoice;
}


export async function detectLayout(dir: string): Promise<InitProposal> {
  const abs = path.resolve(dir);
  const special: string[] = [];
  const proposal = (await detectUnreal(abs)) ?? (await detectUnity(abs)) ?? (await detectO3de(abs, special)) ?? (await detectUnknown(abs));
  // A FIFO named like the engine tarball would block its reader forever, a device be read without end: only
  // folders and regular files are looked into, and the others are named.
  for (const p of special) proposal.notes.push(`${path.join(abs, p)} is not a regular file or a folder: left out`);
  return proposal;
}

// ---- Unreal: a LinuxServer/ package (Engine/, <Project>/Binaries/Linux/<Project>Server, <Project>/Content/Paks)

async function detectUnreal(dir: string): Promise<InitProposal | undefined> {
  const root = path.basename(dir) === 'LinuxServer' || !(await isDir(path.join(dir, 'LinuxServer'))) ? dir : path.join(dir, 'LinuxServer');
  if (!(await isDir(path.join(root, 'Engine')))) return undefined;
  const projects: string[] = [];
  for (const name of await names(root)) {
    if (name !== 'Engine' && (await isDir(path.join(root, name, 'Binaries', 'Linux')))) projects.push(name);
  }
  if (projects.length === 0) return undefined;
  const notes: string[] = [];
  const project = projects.sort()[0]!;
  if (projects.length > 1) notes.push(`several projects (${projects.join(', ')}); took ${project}: edit trees.app if that is wrong`);
  const binDir = path.join(root, project, 'Binaries', 'Linux');
  const execs = await executables(binDir);
  const server = execs.find((n) => n.startsWith(project) && /Server/.test(n)) ?? execs.find((n) => /Server/.test(n));
  let binary = server;
  if (!binary) {
    binary = `${project}Server`;
    notes.push(`no server executable found in ${rel(dir, binDir)}; start assumes ${binary}`);
  }
  const rp = (p: string) => rel(dir, path.join(root, p));
  const emptyDirs: string[] = [];
  const engineContent = await isDir(path.join(root, 'Engine', 'Content'));
  const paks = await isDir(path.join(root, project, 'Content', 'Paks'));
  if (!engineContent) notes.push('Engine/Content is missing: engine-media is an empty folder');
  if (!paks) notes.push(`${project}/Content/Paks is missing (a build without -pak?): app-media is an empty folder, all content goes into app`);
  if (!engineContent || !paks) emptyDirs.push(EMPTY_TREE_DIR);
  const g = '/opt/game';
  return {
    dir,
    layout: 'unreal',
    evidence: `Unreal server package: ${rel(dir, root) || '.'}/Engine and ${rel(dir, binDir)}`,
    game: gameName(project),
    start: [`${g}/${project}/Binaries/Linux/${binary}`, project],
    trees: {
      engine: { source: rp('Engine'), exclude: ['Content/**', '**/*.debug', '**/*.sym'], mount: `${g}/Engine`, why: 'engine binaries and config (Engine/ without its Content)' },
      'engine-media': engineContent
        ? { source: rp('Engine/Content'), mount: `${g}/Engine/Content`, why: 'engine content' }
        : { source: EMPTY_TREE_DIR, mount: `${g}/Engine/Content`, why: 'no engine content in this build' },
      app: { source: rp(project), exclude: ['Content/Paks/**', '**/*.debug', '**/*.sym'], mount: `${g}/${project}`, why: 'the project: binaries, config, loose content (without its paks)' },
      'app-media': paks
        ? { source: rp(`${project}/Content/Paks`), mount: `${g}/${project}/Content/Paks`, why: 'the project paks (.pak, .ucas, .utoc)' }
        : { source: EMPTY_TREE_DIR, mount: `${g}/${project}/Content/Paks`, why: 'no paks in this build' },
    },
    notes: [
      ...notes,
      `the trees rebuild the LinuxServer layout under ${g}; start runs the server binary directly (the package's .sh wrapper is not in a tree)`,
      'debug symbols (*.debug, *.sym) are excluded: drop those excludes to ship them',
    ],
    emptyDirs,
  };
}

// ---- Unity: <Name>.x86_64 + UnityPlayer.so beside <Name>_Data/ (Managed, Resources, StreamingAssets)

async function detectUnity(dir: string): Promise<InitProposal | undefined> {
  const entries = await names(dir);
  const player = entries.find((n) => /\.(x86_64|x86|arm64)$/.test(n) && entries.includes(`${n.replace(/\.[^.]+$/, '')}_Data`));
  if (!player) return undefined;
  const name = player.replace(/\.[^.]+$/, '');
  const data = `${name}_Data`;
  const notes: string[] = [];
  const emptyDirs: string[] = [];
  const resources = await isDir(path.join(dir, data, 'Resources'));
  const streaming = await isDir(path.join(dir, data, 'StreamingAssets'));
  if (!resources) notes.push(`${data}/Resources is missing: engine-media is an empty folder`);
  if (!streaming) notes.push(`${data}/StreamingAssets is missing: app-media is an empty folder, all data goes into app`);
  if (!resources || !streaming) emptyDirs.push(EMPTY_TREE_DIR);
  if (entries.includes('GameAssembly.so')) notes.push('GameAssembly.so (IL2CPP game code) sits beside the player, so it is in the engine tree: a code change rebuilds that layer');
  const g = '/opt/game';
  return {
    dir,
    layout: 'unity',
    evidence: `Unity Linux server build: ${player} and ${data}/`,
    game: gameName(name),
    start: [`${g}/${player}`, '-batchmode', '-nographics'],
    trees: {
      engine: { source: '.', include: [globLiteral(player), '*.so', 'MonoBleedingEdge/**'], mount: g, why: 'the player, UnityPlayer.so and the Mono runtime' },
      'engine-media': resources
        ? { source: `${data}/Resources`, mount: `${g}/${data}/Resources`, why: 'built-in engine resources' }
        : { source: EMPTY_TREE_DIR, mount: `${g}/${data}/Resources`, why: 'no engine resources in this build' },
      app: { source: data, exclude: ['Resources/**', 'StreamingAssets/**'], mount: `${g}/${data}`, why: 'managed code, scenes and asset files' },
      'app-media': streaming
        ? { source: `${data}/StreamingAssets`, mount: `${g}/${data}/StreamingAssets`, why: 'streaming assets and asset bundles' }
        : { source: EMPTY_TREE_DIR, mount: `${g}/${data}/StreamingAssets`, why: 'no streaming assets in this build' },
    },
    notes: [...notes, `start passes -batchmode -nographics; add your server arguments to start`],
    emptyDirs,
  };
}

// ---- Lumberyard / O3DE: BinLinux64.Dedicated(.tar.gz) engine binaries plus folders of .pak files

async function detectO3de(dir: string, special: string[]): Promise<InitProposal | undefined> {
  const top = await names(dir);
  const named: string[] = [];
  for (const n of top) {
    if (/^BinLinux64\.Dedicated(\.tar(\.gz)?|\.tgz)?$/.test(n)) named.push(n);
    else if (await isDir(path.join(dir, n))) {
      for (const m of await names(path.join(dir, n))) if (/^BinLinux64\.Dedicated(\.tar(\.gz)?|\.tgz)?$/.test(m)) named.push(`${n}/${m}`);
    }
  }
  const candidates: string[] = [];
  for (const n of named) {
    const s = await stat(path.join(dir, n)).catch(() => undefined);
    if (s?.isFile() || s?.isDirectory()) candidates.push(n);
    else if (s) special.push(n);
  }
  const engine = candidates.sort((a, b) => Number(b.includes('.tar')) - Number(a.includes('.tar')))[0];
  if (!engine) return undefined;
  const notes: string[] = [];
  const engineTop = engine.split('/')[0]!;
  // Folders at the top, by what they hold: engine content, paks (app-media) and the rest (app).
  const folders: { name: string; pakBytes: number }[] = [];
  for (const n of top) {
    if (n === engineTop || n.startsWith('.') || n === EMPTY_TREE_DIR || !(await isDir(path.join(dir, n)))) continue;
    folders.push({ name: n, pakBytes: await pakBytes(path.join(dir, n), 3) });
  }
  const engineMedia = folders.find((f) => /^(engine-media|engine|shaders)$/i.test(f.name));
  const rest = folders.filter((f) => f !== engineMedia);
  const media = rest.filter((f) => f.pakBytes > 0).sort((a, b) => b.pakBytes - a.pakBytes)[0];
  const appCandidates = rest.filter((f) => f !== media);
  const app = appCandidates.find((f) => /^(app|game|server|config)$/i.test(f.name)) ?? appCandidates[0];
  if (appCandidates.length > 1) notes.push(`several folders could be the app tree (${appCandidates.map((f) => f.name).join(', ')}); took ${app!.name}`);
  const emptyDirs: string[] = [];
  const need = (f: { name: string } | undefined, tree: string) => {
    if (f) return f.name;
    notes.push(`no folder for ${tree} found: it is an empty folder (${EMPTY_TREE_DIR}); point trees.${tree}.source at it`);
    if (!emptyDirs.length) emptyDirs.push(EMPTY_TREE_DIR);
    return EMPTY_TREE_DIR;
  };
  const members = engine.includes('.tar') || engine.endsWith('.tgz') ? await archiveNames(path.join(dir, engine)) : await listFiles(path.join(dir, engine), 3);
  const launcher = members.find((m) => /(^|\/)start\.sh$/.test(m)) ?? members.find((m) => /Server_?Launcher$|Launcher_Server$|ServerLauncher$/.test(m));
  let start: string[];
  if (launcher) start = [`/opt/local/engine/${launcher}`];
  else {
    start = ['/opt/local/engine/start.sh'];
    notes.push(`no start.sh or server launcher found in ${engine}: start is a guess, set it to the engine's start command`);
  }
  notes.push('trees are mounted at /opt/local/<tree>: the start command must point the engine at them (as the sample game\'s start.sh does)');
  return {
    dir,
    layout: 'o3de',
    evidence: `Lumberyard / O3DE dedicated server: ${engine}${media ? ` and paks in ${media.name}/` : ''}`,
    game: gameName(path.basename(dir)),
    start,
    trees: {
      engine: { source: engine, why: 'the dedicated server binaries (BinLinux64.Dedicated), read from the tarball without unpacking' },
      'engine-media': { source: need(engineMedia, 'engine-media'), why: 'engine shaders and shared engine content' },
      app: { source: need(app, 'app'), why: "the game's own libraries, scripts and config" },
      'app-media': { source: need(media, 'app-media'), why: 'the game paks and levels' },
    },
    notes,
    emptyDirs,
  };
}

// ---- anything else: engine/, engine-media/, app/, app-media/ if present, else empty folders

async function detectUnknown(dir: string): Promise<InitProposal> {
  const emptyDirs: string[] = [];
  const trees = {} as Record<TreeName, TreeProposal>;
  for (const t of ['engine', 'engine-media', 'app', 'app-media'] as const) {
    if (await isDir(path.join(dir, t))) trees[t] = { source: t, why: `the ${t} folder` };
    else {
      trees[t] = { source: EMPTY_TREE_DIR, why: `no ${t}/ folder: empty for now` };
      if (!emptyDirs.length) emptyDirs.push(EMPTY_TREE_DIR);
    }
  }
  // Say what the trees are: "a folder of its name" was said also when no such folder exists and every tree is empty.
  const found = Object.values(trees).filter((t) => t.source !== EMPTY_TREE_DIR).length;
  const what =
    found === 0
      ? `no engine/, engine-media/, app/ or app-media/ folder either, so every tree is the empty folder ${EMPTY_TREE_DIR} (a build of it holds no game)`
      : `each tree is the folder of its name where there is one, else the empty folder ${EMPTY_TREE_DIR}`;
  const notes = [`the layout was not recognised (no Unreal LinuxServer/, Unity *_Data/ or BinLinux64.Dedicated): ${what}; edit the sources`];
  // engine/start.sh is what the sample and the docs start: taken as it is when there, a guess otherwise.
  const startScript = trees.engine.source === 'engine' && (await isFile(path.join(dir, 'engine', 'start.sh')));
  if (!startScript) notes.push('start is a guess: set it to the server start command inside the image');
  return { dir, layout: 'unknown', evidence: 'no known layout', game: gameName(path.basename(dir)), start: ['/opt/local/engine/start.sh'], trees, notes, emptyDirs };
}

// ---- helpers

/** A valid `game:` (lower-case letters, digits, ".", "_", "-") from a folder or project name. */
export function gameName(from: string): string {
  const trim = (v: string) => v.replace(/^[._-]+|[._-]+$/g, '');
  const n = from
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // "Ünïcode" → "Unicode", not "n-code"
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    // A repository path part: separators are one ".", one or two "_", or "-"s; "a..b" or "a._b" become "a-b".
    .replace(/[._-]{2,}/g, (m) => (/^-+$/.test(m) || m === '__' ? m : '-'));
  return trim(trim(n).slice(0, GAME_MAX)) || 'my-game';
}

/**
 * A file name as a glob matching only itself: a player named `!Game.x86_64` was a negation (the engine tree took
 * every file but it, gamelayer.yaml included), `Game[1].x86_64` a character class.
 */
function globLiteral(name: string): string {
  return name.replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
}

function rel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/') || '.';
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

async function executables(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isFile() || /\.(debug|sym|so|dylib|txt|json)$/.test(e.name)) continue;
    if ((await stat(path.join(dir, e.name))).mode & 0o111) out.push(e.name);
  }
  return out.sort();
}

async function pakBytes(dir: string, depth: number): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isFile() && /\.pak$/i.test(e.name)) n += (await stat(p)).size;
    else if (e.isDirectory() && depth > 1) n += await pakBytes(p, depth - 1);
  }
  return n;
}

async function listFiles(dir: string, depth: number, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isFile()) out.push(prefix + e.name);
    else if (e.isDirectory() && depth > 1) out.push(...(await listFiles(path.join(dir, e.name), depth - 1, `${prefix}${e.name}/`)));
  }
  return out;
}

/** Member names of a tar / tar.gz (file entries only), read as a stream; an unreadable archive gives none. */
async function archiveNames(file: string): Promise<string[]> {
  const out: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    if (h.type === 'file') out.push(h.name.replace(/^\.\//, ''));
    stream.on('end', next);
    stream.resume();
  });
  const gz = /\.(tgz|gz)$/.test(file);
  await (gz ? pipeline(createReadStream(file), createGunzip(), extract) : pipeline(createReadStream(file), extract)).catch(() => undefined);
  return out;
}
