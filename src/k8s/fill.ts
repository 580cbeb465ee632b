// `gamelayer k8s --fill`: the operator's own manifests (plain YAML, several documents, Helm-rendered output) with
// their image references replaced by the build's digest-pinned ones, every other byte left as it was (comments,
// order, quoting, blank lines). Like ko's `resolve`, on text: only the replaced scalars change.
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, visit, type Scalar } from 'yaml';
import { wholeFilesNeeded } from '../chunk/refuse.js';
import { GamelayerError } from '../errors.js';
import { digestOf } from '../util/image-digest.js';
import type { DeployInput } from './input.js';
import type { RefStyle } from './options.js';

/** `gamelayer://server`, `gamelayer://app-media`, …: a placeholder an operator writes where an image goes. */
export const PLACEHOLDER_SCHEME = 'gamelayer://';
/** The image names a kustomization's `images:` entries match (`image: gamelayer/server` in the base manifests). */
export const KUSTOMIZE_PREFIX = 'gamelayer/';

export interface FillReplacement {
  /** 1-based line and column of the replaced scalar. */
  line: number;
  col: number;
  from: string;
  to: string;
  /** The build's image it names: `server` or a tree. */
  image: string;
}

export interface FillResult {
  text: string;
  replacements: FillReplacement[];
}

/** The build's images by name (`server`, `engine`, …) → the reference to write. */
export function buildImageRefs(input: DeployInput, refs: RefStyle = 'digest'): Map<string, string> {
  const m = new Map<string, string>();
  if (input.serverImage && input.serverDigestRef) m.set('server', refs === 'tag' ? input.serverImage : input.serverDigestRef);
  for (const t of input.trees) m.set(t.tree, refs === 'tag' ? t.image : t.digestRef);
  return m;
}

/** The build's images `names` (`server`, `engine`, …) as a spec writes them, with the digest each pins. */
export function pinnedImages(input: DeployInput, names: readonly string[], refs: RefStyle = 'digest'): { name: string; reference: string; digest?: string }[] {
  const all = buildImageRefs(input, refs);
  return [...new Set(names)].filter((name) => all.has(name)).map((name) => {
    const reference = all.get(name)!;
    const digest = digestOf(reference);
    return { name, reference, ...(digest ? { digest } : {}) };
  });
}

/**
 * Which build image a reference in a manifest means: a placeholder names it; a reference into the build's
 * repository means the image its digest is (this build's, or one `known` names: an earlier build's in the local
 * store), else the tree whose tag suffix it carries (`…:old-app-media`), else the server. A reference pinned by an
 * unknown digest with no tag (what an earlier `--fill` wrote) is `unknown`: it may be a tree's copy image, and
 * taking it for the server would run the server image there without a word.
 */
function imageOf(value: string, input: DeployInput, known: ReadonlyMap<string, string>): string | { unknown: string } | undefined {
  if (value.startsWith(PLACEHOLDER_SCHEME)) return value.slice(PLACEHOLDER_SCHEME.length);
  const at = value.indexOf('@');
  const noDigest = at < 0 ? value : value.slice(0, at);
  const digest = at < 0 ? undefined : value.slice(at + 1);
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
  if (repo !== input.repository) return undefined;
  const named = digest === undefined ? undefined : buildDigests(input).get(digest) ?? known.get(digest);
  if (named !== undefined) return named;
  const tag = colon > slash ? noDigest.slice(colon + 1) : '';
  const tree = input.trees.map((t) => t.tree).find((t) => tag === t || tag.endsWith(`-${t}`));
  if (tree) return tree;
  if (tag === '' && digest !== undefined) return { unknown: digest };
  return 'server';
}

/** The build's own image digests → image name (`server`, a tree). */
function buildDigests(input: DeployInput): Map<string, string> {
  const m = new Map<string, string>();
  const server = input.serverDigestRef && digestOf(input.serverDigestRef);
  if (server) m.set(server, 'server');
  for (const t of input.trees) m.set(t.imageDigest, t.tree);
  return m;
}

/**
 * The digests a manifest text pins the build's repository to with no tag (`<repository>@sha256:…`): the only ones
 * `knownImages` has to look up (any other digest in the text, a layer's say, is never read from the store).
 */
export function digestsIn(text: string, repository: string): string[] {
  const at = `${repository}@`;
  const out = new Set<string>();
  for (let i = text.indexOf(at); i >= 0; i = text.indexOf(at, i + 1)) {
    const m = /^sha256:[a-f0-9]{64}/.exec(text.slice(i + at.length, i + at.length + 71));
    if (m) out.add(m[0]);
  }
  return [...out];
}

/** Rewrites the image references of one file's text; `file` names it in messages. */
export function fillManifests(
  text: string,
  file: string,
  input: DeployInput,
  refs: RefStyle = 'digest',
  known: ReadonlyMap<string, string> = new Map(),
): FillResult {
  const targets = buildImageRefs(input, refs);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const where = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line, col: p.col };
  };
  if (!Array.isArray(docs)) return { text, replacements: [] }; // an empty stream
  for (const doc of docs) {
    const e = doc.errors[0];
    if (e) {
      const p = where(e.pos[0]);
      throw new GamelayerError('fill.yaml', `${file}:${p.line}:${p.col}: invalid YAML: ${e.message.split('\n')[0]}`);
    }
  }

  const found: { node: Scalar; image: string; value: string; volume: boolean }[] = [];
  const seen = new Set<Scalar>();
  const consider = (node: Scalar, imageKey: boolean, volume = false) => {
    if (seen.has(node) || typeof node.value !== 'string') return;
    const value = node.value;
    if (!value.startsWith(PLACEHOLDER_SCHEME) && !imageKey) return;
    const image = imageOf(value, input, known);
    if (image === undefined) return;
    if (typeof image === 'object') {
      const p = where(node.range![0]);
      throw new GamelayerError(
        'fill.unknown-digest',
        `${file}:${p.line}:${p.col}: ${value}: pinned by digest only, and ${image.unknown} is none of build ${input.tag}'s images nor of the builds in the local store: it could be the server or a tree image`,
        'write gamelayer://server or gamelayer://<tree> there (keep that template and fill it with --out), or fill with --refs tag: a reference that keeps its tag (…:<tag>-<tree>@sha256:…) says which image it is',
      );
    }
    seen.add(node);
    found.push({ node, image, value, volume });
  };
  for (const doc of docs) {
    visit(doc, {
      Pair(_, pair) {
        if (!isPair(pair) || !isScalar(pair.key) || !isScalar(pair.value)) return;
        const key = pair.key.value;
        // `image:` of a container; `reference:` of an image volume (`image: {reference: …}`).
        if (key === 'image') consider(pair.value, true);
      },
      Map(_, map) {
        if (!isMap(map)) return;
        for (const item of map.items) {
          if (isPair(item) && isScalar(item.key) && item.key.value === 'image' && isMap(item.value)) {
            const ref = item.value.items.find((i) => isPair(i) && isScalar(i.key) && i.key.value === 'reference');
            if (ref && isPair(ref) && isScalar(ref.value)) consider(ref.value, true, true);
          }
        }
      },
      Scalar(_, node) {
        consider(node, false);
      },
    });
  }

  found.sort((a, b) => a.node.range![0] - b.node.range![0]);
  refuseChunkedWholeFiles(found, file, input, where);
  const replacements: FillReplacement[] = [];
  let out = '';
  let pos = 0;
  for (const f of found) {
    const [start, end] = f.node.range!;
    const p = where(start);
    // Before the image is looked up: a `|` block keeps its line break in the value, and "the build has no image
    // "server\n"" named the wrong fault.
    if (f.node.type === 'BLOCK_LITERAL' || f.node.type === 'BLOCK_FOLDED') throw blockScalar(file, p, f.value);
    const to = targets.get(f.image);
    if (to === undefined) {
      throw new GamelayerError(
        'fill.unknown-image',
        `${file}:${p.line}:${p.col}: ${f.value}: the build has no image "${f.image}"`,
        `use one of ${[...targets.keys()].map((k) => PLACEHOLDER_SCHEME + k).join(', ')}`,
      );
    }
    const quoted = quoteLike(f.node, to);
    if (quoted === undefined) throw blockScalar(file, p, f.value);
    out += text.slice(pos, start) + quoted;
    pos = end;
    replacements.push({ ...p, from: f.value, to, image: f.image });
  }
  out += text.slice(pos);
  return { text: out, replacements };
}

/**
 * A chunked tree's files exist only once a copy container has assembled them (docs/chunks.md): the server image
 * (which holds the trees' layers, so chunks where the big files belong) run as it is, or the tree's image mounted
 * as an image volume, would give the engine chunks and recipes. Refused as `--volumes none` is; a tree image as
 * a container's image (the copy) is fine.
 */
function refuseChunkedWholeFiles(
  found: readonly { node: Scalar; image: string; value: string; volume: boolean }[],
  file: string,
  input: DeployInput,
  where: (offset: number) => { line: number; col: number },
): void {
  const chunked: string[] = input.trees.filter((t) => t.chunked).map((t) => t.tree);
  if (chunked.length === 0) return;
  for (const f of found) {
    const whole = f.image === 'server' ? chunked : f.volume && chunked.includes(f.image) ? [f.image] : [];
    if (whole.length === 0) continue;
    const p = where(f.node.range![0]);
    const what = f.image === 'server' ? 'the server image run as it is' : `tree ${f.image}'s image as an image volume`;
    throw wholeFilesNeeded(
      whole,
      `${file}:${p.line}:${p.col}: ${f.value} (${what})`,
      'deliver the tree through init containers running the assembling copy (gamelayer k8s --volumes init writes them; copy its initContainers and volumes)',
    );
  }
}

function blockScalar(file: string, p: { line: number; col: number }, value: string): GamelayerError {
  return new GamelayerError('fill.scalar', `${file}:${p.line}:${p.col}: ${JSON.stringify(value)}: a block scalar cannot be rewritten in place`, 'write the image reference on one line');
}

/** The new value written the way the old one was: plain, 'single' or "double" quoted. */
function quoteLike(node: Scalar, value: string): string | undefined {
  switch (node.type) {
    case 'QUOTE_DOUBLE':
      return JSON.stringify(value);
    case 'QUOTE_SINGLE':
      return `'${value.replaceAll("'", "''")}'`;
    case 'PLAIN':
      return value;
    default:
      return undefined;
  }
}

/**
 * A kustomization's `images:` block for the build (for a GitOps repository): base manifests name the images
 * `gamelayer/server`, `gamelayer/app-media`, …; each entry sets the repository and the digest.
 */
export function kustomizeImages(input: DeployInput): string {
  const entries: string[] = [];
  const add = (name: string, digest: string) =>
    entries.push(`  - name: ${KUSTOMIZE_PREFIX}${name}\n    newName: ${input.repository}\n    digest: ${digest}`);
  const chunked = input.trees.filter((t) => t.chunked).map((t) => t.tree);
  const server = input.serverDigestRef && digestOf(input.serverDigestRef);
  // Said in the block itself, where a GitOps repository keeps it: such a server image must not run as it is.
  if (server && chunked.length > 0) {
    entries.push(`  # ${KUSTOMIZE_PREFIX}server holds chunks where the big files of ${chunked.join(', ')} belong (chunked): run the trees through init copies (docs/chunks.md), not this image as it is`);
  }
  if (server) add('server', server);
  for (const t of input.trees) add(t.tree, t.imageDigest);
  return `# gamelayer: images of ${input.game} ${input.tag}; paste into kustomization.yaml (or kustomize edit set image)\nimages:\n${entries.join('\n')}\n`;
}
