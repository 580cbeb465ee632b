// The line a new line of work most likely came from: a release branch's first push finds no record of its own line,
// and planning every tree afresh would send (and nodes pull) whole-tree layers the repository mostly holds already.
// The newest record among the repository's other line tags (`gamelayer-line.<line>`) is the best guess of the
// build it was cut from; any record is safe to plan on (it only decides reuse and layout; kept layers are checked).
// Asked only on a line's first build: one tags list, then one manifest GET per other line (their creation times).
// A repository with build records but no line tag at all (someone deleted it, or the only line's tag is gone) gets
// the newest record tag (`<tag>.gamelayer-record`) instead: one GET per record tag, on that rare path only. Without
// it such a build said "no build of line main yet" beside four builds of main and re-sent whole trees.
import pLimit from 'p-limit';
import {
  CLOCK_SKEW_MS,
  fetchBuildRecordFor,
  fetchLineRecord,
  indexCreatedAt,
  LINE_ANNOTATION,
  LINE_TAG_PREFIX,
  lineTag,
  RECORD_TAG_SUFFIX,
  type FetchBuildRecordOptions,
  type FoundBuildRecord,
} from './artifact.js';
import type { RegistryClient } from './client.js';
import { pushTargetFor } from './push.js';
import { parseReference } from './reference.js';

/** The newest build of another line could not be found or read: the caller plans (or compares) afresh, and says why. */
export class OtherLineError extends Error {}

export type OtherLineRecord = { line: OtherLine; found: FoundBuildRecord & { tag: string } };

/**
 * The newest record of another line of `repository` (`host/repo`), for a line with none of its own; undefined when
 * the repository holds no other line. A repository that will not list its tags, or whose chosen record cannot be
 * read, is an OtherLineError saying why (a build then plans afresh, as with no other line).
 */
export async function otherLineRecord(repository: string, line: string, opts: FetchBuildRecordOptions = {}): Promise<OtherLineRecord | undefined> {
  const r = parseReference(repository);
  const target = opts.target ?? (await pushTargetFor(r, opts));
  const where = `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}`;
  let other: OtherLine | undefined;
  try {
    other = await newestOtherLine(target.client, r.repository, line);
  } catch (e) {
    throw new OtherLineError(`the tags of ${where} could not be listed to find the line it came from (${(e as Error).message})`);
  }
  if (!other) {
    let rec: OtherLine | undefined;
    try {
      rec = await newestRecordTag(target.client, r.repository, line);
    } catch (e) {
      throw new OtherLineError(`the build records of ${where} could not be listed (${(e as Error).message})`);
    }
    if (!rec?.recordTag) return undefined;
    try {
      const found = await fetchBuildRecordFor(`${where}:${rec.recordTag}`, { ...opts, target });
      return { line: rec, found: { ...found, tag: rec.recordTag } };
    } catch (e) {
      throw new OtherLineError(`its newest build record ${rec.recordTag} could not be read (${(e as Error).message})`);
    }
  }
  try {
    const found = await fetchLineRecord(repository, other.line, { ...opts, target });
    return found ? { line: other, found } : undefined;
  } catch (e) {
    throw new OtherLineError(`line "${other.line}"'s newest build could not be read (${(e as Error).message})`);
  }
}

export interface OtherLine {
  /** The line (for a record tag: the line its index names, else empty). */
  line: string;
  /** The creation time of its newest record (the line tag's index annotation). */
  createdAt: string;
  /** Found by its record tag `<tag>.gamelayer-record`: the repository holds no line tag at all. */
  recordTag?: string;
}

/**
 * The other line (not `line`) whose newest record in `repo` was created last; undefined when the repository holds
 * no other line. A line tag whose index says no readable creation time, or one further ahead of this host's clock
 * than a clock skew (a wrong clock would otherwise win every time), is passed over. Ties go to the first name.
 */
export async function newestOtherLine(client: RegistryClient, repo: string, line: string, concurrency = 8): Promise<OtherLine | undefined> {
  const own = lineTag(line);
  const tags = (await client.listTags(repo)).filter((t) => t.startsWith(LINE_TAG_PREFIX) && t !== own).sort();
  const limit = pLimit(concurrency);
  const latest = Date.now() + CLOCK_SKEW_MS;
  const found = await Promise.all(
    tags.map((tag) =>
      limit(async (): Promise<(OtherLine & { at: number }) | undefined> => {
        const doc = await client.getManifestIfExists(repo, tag);
        const createdAt = doc ? indexCreatedAt(doc.bytes) : undefined;
        const at = createdAt === undefined ? NaN : Date.parse(createdAt);
        if (!Number.isFinite(at) || at > latest) return undefined;
        return { line: tag.slice(LINE_TAG_PREFIX.length), createdAt: createdAt!, at };
      }),
    ),
  );
  let best: (OtherLine & { at: number }) | undefined;
  for (const f of found) if (f && (!best || f.at > best.at)) best = f;
  return best && { line: best.line, createdAt: best.createdAt };
}

/**
 * The newest build record tagged `<tag>.gamelayer-record` in `repo`, for a repository with no line tag at all (one
 * with a line tag has its own or another line to plan on). A record of `line` wins over newer ones of other lines;
 * times ahead of the clock or unreadable are passed over, as for line tags. undefined when there is none.
 */
export async function newestRecordTag(client: RegistryClient, repo: string, line: string, concurrency = 8): Promise<OtherLine | undefined> {
  const all = await client.listTags(repo);
  if (all.some((t) => t.startsWith(LINE_TAG_PREFIX))) return undefined;
  const tags = all.filter((t) => t.endsWith(RECORD_TAG_SUFFIX)).sort();
  const limit = pLimit(concurrency);
  const latest = Date.now() + CLOCK_SKEW_MS;
  const own = new Set([line, lineTag(line).slice(LINE_TAG_PREFIX.length)]);
  const found = await Promise.all(
    tags.map((tag) =>
      limit(async () => {
        const doc = await client.getManifestIfExists(repo, tag);
        const createdAt = doc ? indexCreatedAt(doc.bytes) : undefined;
        const at = createdAt === undefined ? NaN : Date.parse(createdAt);
        if (!Number.isFinite(at) || at > latest) return undefined;
        return { line: indexLine(doc!.bytes) ?? '', createdAt: createdAt!, recordTag: tag, at };
      }),
    ),
  );
  let best: (OtherLine & { at: number }) | undefined;
  const rank = (f: OtherLine & { at: number }) => [own.has(f.line) ? 1 : 0, f.at] as const;
  for (const f of found) {
    if (!f) continue;
    const [a, b] = [rank(f), best && rank(best)];
    if (!b || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1])) best = f;
  }
  return best && { line: best.line, createdAt: best.createdAt, recordTag: best.recordTag };
}

function indexLine(bytes: Buffer): string | undefined {
  try {
    const value = (JSON.parse(bytes.toString('utf8')) as { annotations?: Record<string, unknown> }).annotations?.[LINE_ANNOTATION];
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}
