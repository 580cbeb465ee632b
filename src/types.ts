// Core types shared by every stage (see DESIGN.md "Core types"). Names are part of the design: keep them.

/** The four trees, in the stable layer order: least volatile first. */
export const TREE_NAMES = ['engine', 'engine-media', 'app', 'app-media'] as const;
export type TreeName = (typeof TREE_NAMES)[number];

/** Media trees are shared between platforms; binaries are per platform. */
export const MEDIA_TREES: readonly TreeName[] = ['engine-media', 'app-media'];

export type EntryType = 'file' | 'dir' | 'symlink';

export interface FileEntry {
  /** POSIX path relative to the tree root, no leading `./` or `/`; entries sort bytewise by it. */
  path: string;
  type: EntryType;
  /** Normalised permission bits (see scan/manifest.ts normalizeMode): 0o755/0o644 for files, 0o755 dirs, 0o777 links. */
  mode: number;
  /** Bytes of content; 0 for dirs and symlinks. */
  size: number;
  /** xxh64 of the content as 16 lower-case hex digits; files only. */
  xxh64?: string;
  /** Symlink target exactly as stored; symlinks only. */
  linkTarget?: string;
}

/** Where a tree's bytes come from: a directory on disk, or a tar / tar.gz archive read as a stream. */
export type TreeSource =
  | { kind: 'dir'; path: string }
  | { kind: 'archive'; path: string; compression: 'none' | 'gzip' };

export interface TreeManifest {
  tree: TreeName;
  /** Absolute path of the source (directory or archive). */
  root: string;
  source: TreeSource;
  /** Platform this manifest was scanned for; undefined for a tree shared by every platform. */
  platform?: string;
  entries: FileEntry[];
  /** `sha256:<hex>` over the canonical encoding of the entries (scan/manifest.ts). */
  digest: string;
}

export interface PlannedLayer {
  tree: TreeName;
  /** Position of this layer inside its tree (0-based); stable between builds. */
  index: number;
  entries: FileEntry[];
  /** `sha256:<hex>` over the entries' paths, types, modes, sizes, content hashes and link targets. */
  inputKey: string;
  /** Sum of file sizes in this layer. */
  bytes: number;
  /** A patch layer: files added or changed since the previous build, and whiteouts for removed ones. */
  patch?: boolean;
  /** The platform whose plan this layer belongs to (every layer of a build record carries it). */
  platform?: string;
}

export interface LayerPlan {
  layers: PlannedLayer[];
}

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
export interface BuiltLayer {
  tree: TreeName;
  index: number;
  inputKey: string;
  /** sha256 of the uncompressed tar. */
  diffID: string;
  /** sha256 of the compressed blob. */
  digest: string;
  size: number;
  mediaType: string;
}

/** What one build produced; written locally and pushed beside the image so the next build can diff and reuse. */
export interface BuildRecord {
  schemaVersion: 1;
  game: string;
  version?: string;
  createdAt: string;
  tags: string[];
  platforms: string[];
  manifests: TreeManifest[];
  plan: LayerPlan;
  layers: BuiltLayer[];
  /** Image name ('server' or a tree name) and platform → manifest / index digest. */
  images: {
    name: string;
    platform?: string;
    digest: string;
    mediaType: string;
    /** Every layer of a platform image, base layers first (not set on an index). */
    layers?: { digest: string; size: number }[];
  }[];
  /** The top-level index digest when several platforms were built. */
  index?: string;
  /** What the plan depended on besides content; a later build reuses this build's layers only when it matches. */
  settingsKey?: string;
  codebuildArn?: string;
  /** Where this build's images went: written locally after each successful push; deploy commands check it. */
  pushed?: PushedTo[];
}

/** One successful push of a build: the repository (`host[:port]/path`) and the images it now holds. */
export interface PushedTo {
  repository: string;
  /** Image name (`server` or a tree, as in `images`) and the digest pushed (index or manifest). */
  images: { name: string; digest: string }[];
  /** ISO time of the push. */
  at: string;
}
