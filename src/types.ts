// Core types shared by every stage (see DESIGN.md "Core types"). Names are part of the design: keep them.
import { z } from 'zod';

/** The four trees, in the stable layer order: least volatile first. */
export const TREE_NAMES = ['engine', 'engine-media', 'app', 'app-media'] as const;
export type TreeName = (typeof TREE_NAMES)[number];
/** The image holding every tree (the one a pod's engine container runs); the tree images are named after their tree. */
export const SERVER_IMAGE = 'server';

/** Media trees are shared between platforms; binaries are per platform. */
export const MEDIA_TREES: readonly TreeName[] = ['engine-media', 'app-media'];

// Stored types (records in .gamelayer/records and in the registry) are zod schemas, their TypeScript types derived
// from them, so what a reader checks and what the code assumes cannot drift apart. Read with parseStored (record
// readers), which names the first field that is wrong. Keys of a manifest are ordered so the fields a reader
// relies on most are checked first.

export const entryTypeSchema = z.enum(['file', 'dir', 'symlink']);
export type EntryType = z.infer<typeof entryTypeSchema>;

export const fileEntrySchema = z.object({
  /** POSIX path relative to the tree root, no leading `./` or `/`; entries sort bytewise by it. */
  path: z.string(),
  type: entryTypeSchema,
  /** Normalised permission bits (see scan/manifest.ts normalizeMode): 0o755/0o644 for files, 0o755 dirs, 0o777 links. */
  mode: z.number(),
  /** Bytes of content; 0 for dirs and symlinks. */
  size: z.number(),
  /** xxh64 of the content as 16 lower-case hex digits; files only. */
  xxh64: z.string().optional(),
  /** Symlink target exactly as stored; symlinks only. */
  linkTarget: z.string().optional(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

/**
 * What fileEntrySchema accepts, as a plain check: zod takes about a second for the 100k-entry lists of a large
 * game's record, this takes milliseconds. test/one-of-each.test.ts holds the two equal on every kind of bad entry.
 */
export function isFileEntry(v: unknown): v is FileEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.path === 'string' &&
    (e.type === 'file' || e.type === 'dir' || e.type === 'symlink') &&
    Number.isFinite(e.mode) &&
    Number.isFinite(e.size) &&
    (e.xxh64 === undefined || typeof e.xxh64 === 'string') &&
    (e.linkTarget === undefined || typeof e.linkTarget === 'string')
  );
}

/** A list of entries: each checked by isFileEntry; the first bad one is reported by fileEntrySchema, with its index. */
const plainEntryListSchema = z
  .array(z.unknown())
  .superRefine((list, ctx) => {
    for (let i = 0; i < list.length; i++) {
      if (isFileEntry(list[i])) continue;
      for (const issue of fileEntrySchema.safeParse(list[i]).error?.issues ?? []) ctx.addIssue({ ...issue, path: [i, ...issue.path] });
      return;
    }
  })
  .transform((list) => list as FileEntry[]); // every element passed isFileEntry above

/**
 * The lists whose entries are read from a packed store (src/entries/packed-list.ts registers each one it makes):
 * kept here, at the bottom, so the record schema can know them without importing the store.
 */
const packedLists = new WeakSet<readonly unknown[]>();

/** Marks `list` as a packed list: its entries were checked as they were packed. */
export function notePackedList(list: readonly unknown[]): void {
  packedLists.add(list);
}

/**
 * The same, but a packed list (a record's large list, src/state/record-parse.ts) is taken as it is: each of its
 * entries passed isFileEntry as it was packed, and `z.array` would copy it into a list of objects, one per entry.
 */
export const fileEntryListSchema = z.unknown().transform((list, ctx): FileEntry[] => {
  if (Array.isArray(list) && packedLists.has(list)) return list as FileEntry[];
  const r = plainEntryListSchema.safeParse(list);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.issues.push(issue as never);
  return z.NEVER;
});

/** Where a tree's bytes come from: a directory on disk, or a tar / tar.gz archive read as a stream. */
export const treeSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dir'), path: z.string() }),
  z.object({ kind: z.literal('archive'), path: z.string(), compression: z.enum(['none', 'gzip']) }),
]);
export type TreeSource = z.infer<typeof treeSourceSchema>;

export const treeNameSchema = z.enum(TREE_NAMES);

export const treeManifestSchema = z.object({
  tree: treeNameSchema,
  entries: fileEntryListSchema,
  /** `sha256:<hex>` over the canonical encoding of the entries (scan/manifest.ts). */
  digest: z.string(),
  /** Absolute path of the source (directory or archive). */
  root: z.string(),
  source: treeSourceSchema,
  /** Platform this manifest was scanned for; undefined for a tree shared by every platform. */
  platform: z.string().optional(),
  /**
   * Set on a chunked tree (docs/chunks.md): its big files are chunk and recipe entries under `.gamelayer-chunks/`,
   * so its images hold no whole copy of them and whatever runs them must assemble the files first.
   */
  chunks: z.object({ minFileSize: z.number(), avgChunkSize: z.number() }).optional(),
  /**
   * Set with `chunks`: the files the chunks and recipes stand for, as the copy assembles them (their number and
   * bytes). A copy of the tree holds these, not the chunks (deploy sizes, src/k8s/input.ts). Absent in records of
   * builds before it was added.
   */
  assembled: z.object({ files: z.number(), bytes: z.number() }).optional(),
  /**
   * Set with `chunks`: each chunked file's chunk list, compactly (src/chunk/record-lists.ts): its path, size, xxh64
   * and sha256, and its chunks in order as the first 16 hex digits of each one's sha256, resolved against the chunk
   * entries. A fresh host takes the lists of unchanged files from here instead of chunking them again. Absent in
   * records of builds before it was added.
   */
  recipes: z.array(z.object({ path: z.string(), size: z.number(), xxh64: z.string(), sha256: z.string(), chunks: z.string() })).optional(),
});
export type TreeManifest = z.infer<typeof treeManifestSchema>;

export const plannedLayerSchema = z.object({
  tree: treeNameSchema,
  /** Position of this layer inside its tree (0-based); stable between builds. */
  index: z.number(),
  entries: fileEntryListSchema,
  /** `sha256:<hex>` over the entries' paths, types, modes, sizes, content hashes and link targets. */
  inputKey: z.string(),
  /** Sum of file sizes in this layer. */
  bytes: z.number(),
  /** A patch layer: files added or changed since the previous build, and whiteouts for removed ones. */
  patch: z.boolean().optional(),
  /** The platform whose plan this layer belongs to (every layer of a build record carries it). */
  platform: z.string().optional(),
});
export type PlannedLayer = z.infer<typeof plannedLayerSchema>;

export const layerPlanSchema = z.object({ layers: z.array(plannedLayerSchema) });
export type LayerPlan = z.infer<typeof layerPlanSchema>;

/** An OCI content descriptor (image-spec descriptor.md), the subset we produce. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
  artifactType?: string;
}

/** One built layer: its plan key and the bytes that represent it. */
export const builtLayerSchema = z.object({
  tree: treeNameSchema,
  index: z.number(),
  inputKey: z.string(),
  /** sha256 of the uncompressed tar. */
  diffID: z.string(),
  /** sha256 of the compressed blob. */
  digest: z.string(),
  size: z.number(),
  mediaType: z.string(),
});
export type BuiltLayer = z.infer<typeof builtLayerSchema>;

/** One successful push of a build: the repository (`host[:port]/path`) and the images it now holds. */
export const pushedToSchema = z.object({
  repository: z.string(),
  /** The AWS region of that copy (an ECR push or replication), for k8s/ecs --region. */
  region: z.string().optional(),
  /** Image name (`server` or a tree, as in `images`) and the digest pushed (index or manifest). */
  images: z.array(z.object({ name: z.string(), digest: z.string() })),
  /** ISO time of the push. */
  at: z.string(),
});
export type PushedTo = z.infer<typeof pushedToSchema>;

/**
 * What one build produced; written locally and pushed beside the image so the next build can diff and reuse.
 * The one schema of a build record: the local record reader and the registry's both check it.
 */
export const buildRecordSchema = z.object({
  schemaVersion: z.literal(1),
  game: z.string().min(1),
  version: z.string().optional(),
  createdAt: z.string().min(1),
  tags: z.array(z.string()),
  platforms: z.array(z.string()),
  manifests: z.array(treeManifestSchema),
  plan: layerPlanSchema,
  layers: z.array(builtLayerSchema),
  /** Image name ('server' or a tree name) and platform → manifest / index digest. */
  images: z.array(
    z.object({
      name: z.string(),
      platform: z.string().optional(),
      digest: z.string(),
      mediaType: z.string(),
      /** Every layer of a platform image, base layers first (not set on an index). */
      layers: z.array(z.object({ digest: z.string(), size: z.number() })).optional(),
    }),
  ),
  /** The top-level index digest when several platforms were built. */
  index: z.string().optional(),
  /** What the plan depended on besides content; a later build reuses this build's layers only when it matches. */
  settingsKey: z.string().optional(),
  codebuildArn: z.string().optional(),
  /**
   * The commit (CodeBuild's resolved source version) and the source repository that built it: kept here and in the
   * record's manifest annotations, never in the images, whose digests would change with every commit (docs too).
   */
  revision: z.string().optional(),
  sourceUrl: z.string().optional(),
  /** The line of work (branch) of a build planned on the registry's state: its record moves the line's tag. */
  line: z.string().optional(),
  /**
   * The record this build was planned on, when it came from the registry. `ref` is what was read (a line tag moves on
   * with the line); `blob` is the digest of that record's blob, where `inspect REF` reads it again (whatever the tags
   * say since) to tell the layers this build kept from those it made; `tag` is that build's own (since stop 48), the
   * baseline of `diff --against REPO --previous` once this build has moved the line's tag.
   */
  previous: z.object({ ref: z.string(), createdAt: z.string(), blob: z.string().optional(), tag: z.string().optional() }).optional(),
  /** A base image read from a registry, per platform: the manifest it resolved to (pinned), and where it is. */
  bases: z.array(z.object({ platform: z.string(), ref: z.string(), digest: z.string(), repository: z.string(), layers: z.number() })).optional(),
  /**
   * Per platform and tree, the folders above the mount that the base holds with an owner or mode of their own, as
   * the layers were made with them (plan/mount-parents.ts); absent when there are none (every scratch build).
   */
  parents: z.record(z.string(), z.record(z.string(), z.array(z.object({ path: z.string(), uid: z.number(), gid: z.number(), mode: z.number() })))).optional(),
  /**
   * Per platform, the key of the base's folders `parents` describes (oci/base-parents.ts baseParentsMarkerName: the
   * base's layer digests and the folders above the mounts): a host without the base read (a fresh CodeBuild host, its
   * base left in the registry it pushes to) takes `parents` from the record when its key is this one, instead of
   * streaming the base's layers. Absent on a scratch base.
   */
  baseFolders: z.record(z.string(), z.string()).optional(),
  /**
   * Per platform whose mounts nest with folders between them, the base's folders there of an owner or mode of their
   * own (an empty list: none), whether or not a tree's layers took them (plan/mount-parents.ts): with `parents`, what
   * a host taking them from the record needs. Absent on a scratch base and without such folders.
   */
  between: z.record(z.string(), z.array(z.object({ path: z.string(), uid: z.number(), gid: z.number(), mode: z.number() }))).optional(),
  /** Where this build's images went: written locally after each successful push; deploy commands check it. */
  pushed: z.array(pushedToSchema).optional(),
  /**
   * The local store the build wrote its images to, as a path from the state folder (`oci`, `../second-store`): local
   * only, never pushed. Absent in records of older versions (and merged records, whose images are in no local store).
   */
  store: z.string().optional(),
});
export type BuildRecord = z.infer<typeof buildRecordSchema>;

/** A record of a scan alone (`gamelayer scan`): the baseline of a diff before anything was built. */
export const scanRecordSchema = z.object({
  kind: z.literal('scan'),
  schemaVersion: z.literal(1),
  game: z.string(),
  createdAt: z.string(),
  manifests: z.array(treeManifestSchema),
});
export type ScanRecord = z.infer<typeof scanRecordSchema>;

/**
 * `value` checked against a stored type's schema: the value with the schema's fields, or the first problem as
 * `field.path[0].name: what was expected` (what the record readers put in their errors).
 */
export function parseStored<S extends z.ZodType>(schema: S, value: unknown): { ok: true; value: z.infer<S> } | { ok: false; problem: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  const at = issue.path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
  return { ok: false, problem: `${at || '(root)'}: ${issueText(issue, valueAt(value, issue.path))}` };
}

function valueAt(value: unknown, keys: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

const KIND_NAMES: Record<string, string> = { array: 'a list', object: 'a map', string: 'a string', number: 'a number', boolean: 'true or false' };

function issueText(issue: z.core.$ZodIssue, got: unknown): string {
  // `got` is looked up in the input: zod leaves it out of issues unless asked to.
  if (issue.code === 'invalid_type') return `expected ${KIND_NAMES[issue.expected] ?? issue.expected}`;
  if (issue.code === 'invalid_value') {
    const values = issue.values.map((v) => JSON.stringify(v));
    return values.length === 1 ? `expected ${values[0]}, got ${JSON.stringify(got)}` : `expected one of ${issue.values.join(', ')}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return 'expected a non-empty string';
  return issue.message;
}
