// The schema of gamelayer.yaml. Messages say what is expected; load.ts adds file, line and field.
import { z } from 'zod';
import { TREE_NAMES } from '../types.js';
import { hostOnlyMessage, registryHostOnly } from '../util/host-only-reference.js';
import { once } from '../util/once.js';
import { deploySchema } from './deploy.js';

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  // A scratch volume or an exported tree can be that big: refusing `1TiB` as "not a size" was a trial's surprise.
  TIB: 1024 ** 4,
};

/** Parses `512MiB`, `1.5GB`, `1TiB`, `4096` into bytes; undefined when it is not a size. */
export function parseSize(value: string | number): number | undefined {
  // Past 2^53 bytes a count is no longer exact (1e30 was taken as a limit no layer reaches): no disk holds that.
  const ok = (n: number) => (Number.isSafeInteger(n) && n > 0 ? n : undefined);
  if (typeof value === 'number') return ok(value);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] || 'B').toUpperCase()];
  if (unit === undefined) return undefined;
  return ok(Math.round(Number(m[1]) * unit));
}

/**
 * A config value as the YAML wrote it, for a message: `.inf`, `-.inf` and `.nan` (and `1e400`, which YAML reads as
 * infinity) are no JSON, whose `null` for them read as "the field is empty".
 */
export function shownValue(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : 'a map';
  return JSON.stringify(v) ?? String(v);
}

const OS_ARCH = /^(linux)\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)(\/(v[5-8]))?$/;

// Docker/OCI reference grammar, simplified: [host[:port]/]path[:tag][@sha256:hex]
const REFERENCE =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
/** One path part of a repository name (the distribution reference grammar). */
export const REPOSITORY_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const GAME_MAX = 128;
const LOCAL_BASE = /^(oci|oci-archive|docker-archive):.+$/;

/** What is wrong with a reference a user may well write (a URL scheme, a repository in upper case), if that is it. */
function referenceMistake(v: string): string | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(v);
  if (scheme) return `no URL scheme: write host[:port]/repository, such as ${v.slice(scheme[0].length) || 'registry.example.com/game'}`;
  const slash = v.indexOf('/');
  const first = slash < 0 ? '' : v.slice(0, slash);
  const hasHost = first !== '' && (/[.:]/.test(first) || first === 'localhost');
  const host = hasHost ? `${first}/` : '';
  const rest = v.slice(host.length);
  const path = /^[^:@]*/.exec(rest)![0];
  if (path !== path.toLowerCase() && REFERENCE.test(`${host}${path.toLowerCase()}${rest.slice(path.length)}`)) {
    return `the repository path "${path}" must be lower case (${host}${path.toLowerCase()}${rest.slice(path.length)})`;
  }
  return undefined;
}

/** A refinement of a reference field: the mistake when one is recognised, else `message`. */
function referenceCheck(ok: (v: string) => boolean, message: string) {
  return (v: string, ctx: z.RefinementCtx) => {
    // A registry host alone passes the grammar (Docker Hub's library/<host>), so it is refused before it.
    const hostOnly = registryHostOnly(v);
    if (hostOnly) ctx.addIssue({ code: 'custom', message: hostOnlyMessage(v, hostOnly) });
    else if (!ok(v)) ctx.addIssue({ code: 'custom', message: referenceMistake(v) ?? message });
  };
}

/** A list naming an entry twice: refused at the second, which says where the first is. */
function noRepeats(list: string[], ctx: z.RefinementCtx): void {
  list.forEach((p, i) => {
    if (list.indexOf(p) < i) ctx.addIssue({ code: 'custom', path: [i], message: `${p} is listed twice (also entry ${list.indexOf(p)})` });
  });
}

/**
 * Paths a container runtime mounts its own file systems on (a tree there is hidden, a volume there refused). `/`
 * itself stays allowed: a tree can be the whole file system of a scratch image, with the other trees nested in it
 * (test/integrity-mounts.test.ts).
 */
const RUNTIME_OWNED = ['proc', 'sys', 'dev'];

/** The format characters a trial slipped into mounts, by name; any other Cf is still refused, by its code point. */
const FORMAT_NAMES: Record<number, string> = {
  0xad: 'SOFT HYPHEN',
  0x61c: 'ARABIC LETTER MARK',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2060: 'WORD JOINER',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE',
};

/**
 * The first format character (Unicode Cf: bidi controls, zero-width characters, soft hyphen, tags) of `v`, shown as
 * `U+202E (RIGHT-TO-LEFT OVERRIDE) at character 6` (1-based, in code points); undefined when there is none. Such a
 * character draws nothing or reorders what follows, so a path holding one reads as another in specs and logs.
 */
export function formatCharacterIn(v: string): string | undefined {
  let at = 0;
  for (const ch of v) {
    at++;
    if (!/\p{Cf}/u.test(ch)) continue;
    const cp = ch.codePointAt(0)!;
    const hex = cp.toString(16).toUpperCase().padStart(4, '0');
    return `U+${hex} (${FORMAT_NAMES[cp] ?? 'a format character'}) at character ${at}`;
  }
  return undefined;
}

/**
 * A glob that could match outside the tree: absolute, or with a `..` segment (also inside braces or extglobs,
 * `{..,x}/**`, `@(..)/**`). Globs are matched from the tree's root and must stay below it.
 */
export function globLeavesTree(glob: string): boolean {
  return glob.startsWith('/') || glob.startsWith('~') || /(^|[/{,|(])\.\.($|[/},|)])/.test(glob);
}

/** `chunks.minFileSize` when not given: the size `init` chunks app-media at, and build's whole-file note names. */
export const DEFAULT_CHUNK_MIN_FILE_SIZE = 64 * 1024 ** 2;
/** `chunks.avgChunkSize` when not given. */
export const DEFAULT_AVG_CHUNK_SIZE = 256 * 1024;
/** Content-defined chunk sizes bounded so a chunk is never tiny (tar overhead) nor near a layer's size. */
export const MIN_AVG_CHUNK = 64 * 1024;
export const MAX_AVG_CHUNK = 64 * 1024 ** 2;

/**
 * The config's schema, built on its first use: a config that the validated-config cache vouches for (config/
 * validated-cache.ts) is not validated again, and building these zod schemas was about 5 ms of every command's start.
 */
export const configSchema = once(buildConfigSchema);

function buildConfigSchema() {
  // Any YAML value comes in, so that a size written as `.inf`, `true` or a list is named as such rather than as zod's
  // "Invalid input" of a union none of whose members matched.
  const size = z.unknown().transform((v, ctx) => {
    const n = typeof v === 'number' || typeof v === 'string' ? parseSize(v) : undefined;
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 512MiB, 2GiB or a byte count, got ${shownValue(v)}` });
      return z.NEVER;
    }
    return n;
  });

  const platform = z.string().regex(OS_ARCH, {
    message: 'expected a platform such as linux/amd64 or linux/arm64 (os/arch[/variant])',
  });

  const imageReference = z
    .string()
    .superRefine(referenceCheck((v) => REFERENCE.test(v), 'expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/game or localhost:5000/game'));

  const baseImage = z
    .string()
    .superRefine(
      referenceCheck(
        (v) => v === 'scratch' || LOCAL_BASE.test(v) || REFERENCE.test(v),
        'expected "scratch", oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE or an image reference such as debian:bookworm-slim',
      ),
    );

  const absolutePath = z
    .string()
    .superRefine((v, ctx) => {
      // Before the shape check: a path starting with U+FEFF is named for that character, not as "not absolute".
      const hidden = formatCharacterIn(v);
      if (hidden) {
        ctx.addIssue({ code: 'custom', message: `holds ${hidden}, an invisible format character that makes the path look like another; expected visible characters only, such as /opt/local/app`});
      }
    })
    // A path with a format character has its one message above.
    .refine((v) => formatCharacterIn(v) !== undefined || (v.startsWith('/') && !v.split('/').includes('..') && !/[\u0000-\u001f\u007f]/.test(v)), {
      message: 'expected an absolute path inside the image such as /opt/local/engine',
    })
    .superRefine((v, ctx) => {
      const first = v.split('/').find((p) => p !== '');
      if (v.startsWith('/') && first !== undefined && RUNTIME_OWNED.includes(first)) {
        ctx.addIssue({ code: 'custom', message: `${v} is a path the container runtime owns (/proc, /sys, /dev): expected a folder of the image such as /opt/local/engine` });
      }
    });

  const globList = z.array(
    z
      .string()
      .min(1, { message: 'expected a non-empty glob' })
      .refine((g) => !globLeavesTree(g), { message: 'a glob must stay inside the tree: no absolute path, no ".." segment' }),
  );

  /**
   * `trees.<tree>.chunks`: files at or above minFileSize are stored as content-defined chunks plus a recipe
   * (docs/chunks.md). avgChunkSize is the target average; chunks are at least a quarter and at most four times it.
   */
  const chunksSchema = z
    .strictObject({
      minFileSize: size.default(DEFAULT_CHUNK_MIN_FILE_SIZE),
      avgChunkSize: size.default(DEFAULT_AVG_CHUNK_SIZE),
    })
    .superRefine((c, ctx) => {
      if (c.avgChunkSize < MIN_AVG_CHUNK || c.avgChunkSize > MAX_AVG_CHUNK) {
        ctx.addIssue({ code: 'custom', path: ['avgChunkSize'], message: `expected a size from 64KiB to 64MiB, got ${c.avgChunkSize} bytes` });
      }
      if (c.minFileSize < c.avgChunkSize * 4) {
        ctx.addIssue({ code: 'custom', path: ['minFileSize'], message: `expected at least 4 × avgChunkSize (${c.avgChunkSize * 4} bytes): a smaller file would be one or two chunks, no gain over the whole file` });
      }
    });

  /**
   * A path of the config: relative to its folder, or absolute. `~` is a shell's, never expanded here: `store: ~/x`
   * made a folder named "~" beside the config (one `rm -rf ~` away from the home folder) and `source: ~/game` was
   * "does not exist".
   */
  const configPath = z
    .string()
    .min(1, { message: 'expected a non-empty path' })
    // `store: " "` made a folder named by a blank in the game folder, and built into it.
    .refine((v) => v === '' || /\S/.test(v), { message: 'is only blanks: expected a path' })
    .refine((v) => !/^~($|\/)/.test(v) && !/^~[A-Za-z0-9._-]*\//.test(v), { message: 'starts with "~", which only a shell expands: write the absolute path (or one relative to the config\'s folder)' });

  const treeSchema = z.strictObject({
    source: z.union([configPath, z.record(platform, configPath)], {
      message: 'expected a path (directory, .tar or .tar.gz) or a map from platform to path',
    }),
    include: globList.default(['**']),
    exclude: globList.default([]),
    mount: absolutePath.optional(),
    chunks: chunksSchema.optional(),
  });

  const treesShape = Object.fromEntries(TREE_NAMES.map((t) => [t, treeSchema])) as Record<
    (typeof TREE_NAMES)[number],
    typeof treeSchema
  >;

  const MAX_LAYERS_MESSAGE = 'expected a whole number from 4 to 120 (layers of one image, base layers included)';

  return z.strictObject({
    game: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, {
        message: 'expected a lower-case name of letters, digits, ".", "_" or "-" such as my-game',
        abort: true,
      })
      // The name is a repository path part (`load` and `run-local` tag images with it, `dockerfile` names the base
      // after it): "a.b..c" or "game-" passed here and failed there, as an invalid reference naming no field.
      .regex(REPOSITORY_PART, {
        message: 'expected a repository path part: letters or digits at both ends, separated by one ".", one or two "_", or "-"s (such as my-game or my_game.v2)',
        abort: true,
      })
      .max(GAME_MAX, { message: `expected at most ${GAME_MAX} characters: room for a registry host and a namespace in Docker's 255-character repository names` }),
    // build's default tag: what `build --tag` takes (build.bad-tag), so a bad one is the config's error, not the flag's.
    version: z
      .string()
      .min(1, { message: 'expected a non-empty string', abort: true })
      .regex(/^\w[\w.-]{0,114}$/, { message: 'expected a tag of letters, digits, "_", "." or "-" (at most 115 characters, leaving room for tree suffixes), such as 1.4.2' })
      // build's tag by default, and records/build-last.json is the last build's pointer (build.bad-tag for --tag).
      .refine((v) => v !== 'last', { message: '"last" names the last build\'s record (records/build-last.json), which every build replaces: expected another tag, such as 1.4.2' })
      .optional(),
    baseImage: baseImage.default('scratch'),
    start: z.union(
      [
        z.string().min(1).transform((s) => [s]),
        z.array(z.string().min(1, { message: 'expected a non-empty string' })).min(1, { message: 'expected the engine start command: at least one word' }),
      ],
      {
        message: 'expected the engine start command as a string or a list of strings',
      },
    ),
    platforms: z
      .array(platform)
      .min(1, { message: 'expected at least one platform, such as linux/amd64' })
      // A platform twice built an index listing one manifest twice, and a batch buildspec with two jobs of one name.
      .superRefine(noRepeats)
      .default(['linux/amd64']),
    registry: imageReference.optional(),
    // The studio's other games' repositories (or its base image's) in the registry this game pushes to: layers they
    // hold (the shared engine) are mounted from there, never sent again (config/load.ts keeps the repository path).
    mountFrom: z
      .array(imageReference)
      .superRefine(noRepeats)
      .optional(),
    store: configPath.default('.gamelayer/oci'),
    layers: z
      .strictObject({
        targetSize: size.default(512 * 1024 ** 2),
        maxLayers: z
          .number()
          .int({ message: MAX_LAYERS_MESSAGE })
          .min(4, { message: MAX_LAYERS_MESSAGE })
          .max(120, { message: MAX_LAYERS_MESSAGE })
          .default(100),
        // The registry's limit on one layer: ECR's 52,000 MiB by default; lower it for registries with smaller limits.
        maxLayerSize: size.default(52_000 * 1024 ** 2),
        compression: z.enum(['gzip', 'zstd'], { message: 'expected gzip or zstd' }).default('gzip'),
      })
      .prefault({}),
    trees: z.strictObject(treesShape),
    /** Scheduling and pod settings of the emitted specs (config/deploy.ts). */
    deploy: deploySchema().optional(),
  });
}

export type RawConfig = z.infer<ReturnType<typeof buildConfigSchema>>;
