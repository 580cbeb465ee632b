// Writes the proposal of detect.ts as a commented gamelayer.yaml. The text is validated by the config loader
// before it is written (init never leaves a config that does not load), and written through a temp file and a
// rename: an existing config is only replaced with --force.
import { access, link, lstat, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, parseConfig } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import { GamelayerError, errnoCode, isGamelayerError } from '../errors.js';
import { diskFullError } from '../util/disk-full.js';
import { isWriteDenied } from '../util/fs-access.js';
import { writeThroughLink } from '../util/write-through-link.js';
import { formatBytes } from '../report/reporter.js';
import { TREE_NAMES } from '../types.js';
import { chooseChunks, type ChunkChoice } from './chunk-choice.js';
import { detectLayout, type InitProposal } from './detect.js';

export interface InitOptions {
  /** The build folder; the yaml is written into it. */
  dir: string;
  /** Replace an existing gamelayer.yaml. */
  force?: boolean;
  /** `game:` instead of the name guessed from the folder or project. */
  game?: string;
  /** Whole files in app-media even when it holds files big enough to chunk. */
  wholeFiles?: boolean;
}

export interface InitResult {
  file: string;
  proposal: InitProposal;
  text: string;
}

export async function initGame(opts: InitOptions): Promise<InitResult> {
  if (opts.game !== undefined) {
    // Checked by the config's own rule, so a bad name is the flag's fault, not a line of a file init never wrote.
    const name = configSchema().shape.game.safeParse(opts.game);
    if (!name.success) throw new GamelayerError('cli.game', `--game ${JSON.stringify(opts.game)}: ${name.error.issues[0]!.message}`);
  }
  const dir = path.resolve(opts.dir);
  const st = await stat(dir).catch((e) => {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('init.target', `${dir}: no such folder`, 'give the folder of the dedicated-server build');
    throw e;
  });
  if (!st.isDirectory()) throw new GamelayerError('init.target', `${dir}: not a folder`, 'give the folder of the dedicated-server build, not a file in it');
  // A folder this user may not list (0700, another owner) failed later, at gamelayer-empty, as "cannot write".
  await access(dir, constants.R_OK | constants.X_OK).catch((e) => {
    throw new GamelayerError(
      'init.unreadable',
      `${dir}: cannot read the folder (${errnoCode(e) ?? (e as Error).message}); init looks at the build's files to propose a config`,
      'make the folder readable for this user (or run init as its owner)',
    );
  });
  const file = path.join(dir, CONFIG_FILE);
  const existing = await stat(file).catch(() => undefined);
  // A folder of that name cannot be replaced by a file, --force or not (it was an internal EISDIR).
  if (existing?.isDirectory()) throw new GamelayerError('init.exists', `${file} is a folder, not a config file`, `move the folder ${CONFIG_FILE} away, then run init again`);
  const exists = existing !== undefined;
  if (exists && !opts.force) {
    throw new GamelayerError('init.exists', `${file} already exists`, 'edit it, or pass --force to replace it with a fresh proposal');
  }
  const proposal = await detectLayout(dir);
  if (opts.game) proposal.game = opts.game;
  const chunks = await chooseChunks(dir, proposal.trees['app-media'].source, opts.wholeFiles ?? false);
  if (chunks) proposal.chunks = chunks;
  const text = renderConfig(proposal);
  parseConfig(text, file); // a proposal that does not load is a bug here, never the user's to find
  for (const d of proposal.emptyDirs) await checkEmptyFolder(path.join(dir, d));
  // Folders this run made, removed again when the config is not written: a refused init leaves the folder as it was.
  const made: string[] = [];
  const undo = async () => {
    for (const d of made) await rmdir(d).catch(() => {});
  };
  // A write refused at `target` (a symlinked config's target, under --force), said as init's own error.
  const refused = (e: unknown, target: string): unknown => {
    // Denied, or a folder the kernel will not let anything be made in (/proc says ENOENT): the folder refuses writes.
    if (!isWriteDenied(e) && errnoCode(e) !== 'ENOENT') return diskFullError(e, 'init.disk-full', dir, CONFIG_FILE);
    // The generic hint names --out and --store, which init has not: say what init writes, and where.
    return new GamelayerError(
      'init.unwritable',
      `${path.dirname(target)}: cannot write ${path.basename(target)}${proposal.emptyDirs.length ? ` or ${proposal.emptyDirs.join(', ')}/` : ''} there (${errnoCode(e)})`,
      'init writes into the build folder: make it writable for this user (or run as its owner), or run init on a writable copy of the build',
    );
  };
  const temp = path.join(dir, `.${CONFIG_FILE}.${process.pid}.tmp`);
  try {
    for (const d of proposal.emptyDirs) if (await makeEmptyFolder(path.join(dir, d))) made.push(path.join(dir, d));
    // --force over a config (an existing one means --force here): replaced where it really is, its mode kept.
    if (existing) {
      await writeThroughLink(file, text, refused);
      return { file, proposal, text };
    }
    await writeFile(temp, text, { flag: 'wx' });
  } catch (e) {
    // A full disk: no empty temp file left behind, and an error that says so (it was an internal ENOSPC).
    await rm(temp, { force: true });
    await undo();
    throw isGamelayerError(e) ? e : refused(e, file);
  }
  try {
    if (opts.force) await rename(temp, file);
    else await link(temp, file); // fails if a config appeared meanwhile: never overwrite without --force
  } catch (e) {
    await undo();
    if (errnoCode(e) === 'EEXIST') throw new GamelayerError('init.exists', `${file} already exists`, 'edit it, or pass --force to replace it with a fresh proposal');
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
  return { file, proposal, text };
}

/**
 * The folder empty trees point at must be an empty folder of its own: a symlink there (to /etc, say) or a folder
 * with files would put them in every "empty" tree's image, and a file there failed as an internal EEXIST.
 * Checked before anything is written, so a refusal leaves the build folder as it was.
 */
async function checkEmptyFolder(folder: string): Promise<void> {
  const st = await lstat(folder).catch((e) => {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return;
  const what = st.isSymbolicLink() ? 'a symbolic link' : !st.isDirectory() ? 'not a folder' : (await readdir(folder)).length > 0 ? 'a folder that is not empty' : undefined;
  if (what === undefined) return;
  throw new GamelayerError(
    'init.empty-folder',
    `${folder}: ${what}; init points the trees this build has nothing for at it, and whatever it holds would go into their images`,
    `move ${path.basename(folder)} away (init creates it empty), or give the trees their sources and run init again`,
  );
}

/** Makes the empty folder; true when this call made it (false: an empty one was there). */
async function makeEmptyFolder(folder: string): Promise<boolean> {
  try {
    await mkdir(folder);
    return true;
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    await checkEmptyFolder(folder); // appeared meanwhile: still only an empty folder will do
    return false;
  }
}

const LAYOUT_NAMES = { unreal: 'Unreal Engine', o3de: 'Lumberyard / O3DE', unity: 'Unity', unknown: 'not recognised' } as const;

/**
 * Text inside a comment line: one line, whatever the build folder's names hold. A project folder named
 * `P\nversion: 6.6.6 #` ended the layout comment, and its second line was a `version:` of the config.
 */
function commentText(s: string): string {
  return s.replace(/[\r\n\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The column the fields' comments start at: they line up below each other. */
const COMMENT_COLUMN = 35;

/**
 * A field line with its comment at COMMENT_COLUMN; a field too long for that (a long game name, the registry line
 * holding it) gets its comment on the line above instead. Written after the field at a fixed distance, the comment
 * of a long game name started far right of the others and wrapped in an editor or terminal, the next line's
 * comment back at the column.
 */
function commented(field: string, comment: string): string[] {
  if (field.length < COMMENT_COLUMN - 1) return [`${field.padEnd(COMMENT_COLUMN)}# ${comment}`];
  return [`# ${comment}:`, field];
}

/** `chunks: {}` (or, under --whole-files, the line commented out) with why, and what it asks of a deployment. */
function chunksLines(c: ChunkChoice): string[] {
  const big = `${commentText(c.file)} is ${formatBytes(c.bytes)}`;
  const min = formatBytes(c.minFileSize);
  if (c.reserved) {
    return [
      `    # Whole files, though ${big}: the source holds ${commentText(c.reserved)}, a path a chunked tree`,
      `    # reserves (a build of chunks: {} refuses it: chunks.reserved-path). Rename or remove it, then uncomment to`,
      `    # chunk files of ${min} or more (docs/chunks.md) and deploy through the copy that assembles the files.`,
      '    # chunks: {}',
    ];
  }
  if (!c.chunked) {
    return [
      `    # Whole files (init --whole-files), though ${big}: a partial rewrite of a pak sends it whole again,`,
      `    # and nodes unpack it whole again. Uncomment to chunk files of ${min} or more (docs/chunks.md), then deploy`,
      `    # through the copy that assembles the files (k8s / run-local --volumes init, gamelayer ecs).`,
      '    # chunks: {}',
    ];
  }
  return [
    `    # Chunked: ${big}, and files of ${min} or more become chunks plus a recipe (docs/chunks.md).`,
    `    # A partial rewrite of a pak then costs the bytes written, and nodes unpack the day's change, not the whole`,
    `    # pak again. Deploy through the copy that assembles the files (k8s / run-local --volumes init, gamelayer ecs):`,
    `    # the server image alone won't run the paks. For whole files, delete this line (or run init --whole-files).`,
    '    chunks: {}',
  ];
}

/** The yaml text: the detected layout and every guess as comments, the fields in the order docs/config.md lists them. */
export function renderConfig(p: InitProposal): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (xs: string[]) => `[${xs.map(q).join(', ')}]`;
  const out: string[] = [
    `# gamelayer.yaml written by \`gamelayer init\`: every field is described in docs/config.md.`,
    `# Layout: ${LAYOUT_NAMES[p.layout]} (${commentText(p.evidence)}).`,
  ];
  if (p.notes.length) {
    out.push('# Check these guesses:');
    for (const n of p.notes) out.push(`#   - ${commentText(n)}`);
  }
  out.push(
    '',
    ...commented(`game: ${q(p.game)}`, "the image repository's last path part"),
    ...commented('# version: 1.0.0', 'optional: goes into labels and annotations'),
    ...commented('baseImage: scratch', 'or an image with a shell for init containers / run-local, e.g. oci:base:latest'),
    `start: ${list(p.start)}`,
    ...commented('platforms: [linux/amd64]', 'add linux/arm64 with per-platform engine and app sources'),
    ...commented(`# registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/${p.game}`, 'where push / build --push go'),
    ...commented('# store: .gamelayer/oci', 'the local OCI image layout'),
    `# layers: {targetSize: 512MiB, maxLayers: 100, compression: gzip}`,
    'trees:',
  );
  for (const t of TREE_NAMES) {
    const tree = p.trees[t];
    out.push(`  # ${commentText(tree.why)}`, `  ${t}:`, `    source: ${q(tree.source)}`);
    if (tree.include) out.push(`    include: ${list(tree.include)}`);
    if (tree.exclude) out.push(`    exclude: ${list(tree.exclude)}`);
    if (tree.mount) out.push(`    mount: ${q(tree.mount)}`);
    if (p.chunks?.tree === t) out.push(...chunksLines(p.chunks));
  }
  return `${out.join('\n')}\n`;
}
