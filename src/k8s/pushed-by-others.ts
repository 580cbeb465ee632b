// The same content built again under another tag has the same image digests; only the first build was pushed. A
// spec pins images by digest, and a registry serves a manifest by digest whichever tag it came with: the digests
// other local builds pushed to a repository are what a deploy of this build can pull there.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { storeOfRecord } from '../state/last-build.js';
import { isLastBuildName, recordsDir } from '../state/records.js';
import { recordHead } from '../state/record-head.js';
import { tagOfRecordName } from '../state/record-name.js';
import { pushedOfRecord } from '../state/record-pushed.js';
import { readBuildSummary } from '../state/record-summary.js';
import type { BuildRecord } from '../types.js';
import type { DeployInput, PushedByOthers } from './input.js';
import { sameRepository } from './same-repository.js';

/**
 * Image digests the other local builds in `stateDir` pushed to the input's repository. Read only when the record
 * is a local file whose own `pushed` lacks one of the input's images there (most deploys read no other record). A
 * record that cannot be read, or whose head is not sound (record-pushed.ts), is passed over: it is not the build
 * deployed, and without it the check refuses as before.
 */
export async function pushedByOthers(stateDir: string, record: Pick<BuildRecord, 'pushed' | 'tags' | 'store'>, input: DeployInput, recordFile: string): Promise<PushedByOthers> {
  if (!path.isAbsolute(recordFile)) return new Map();
  const wanted = [input.serverDigestRef?.split('@')[1], ...input.trees.map((t) => t.imageDigest)].filter((d): d is string => d !== undefined);
  const own = record.pushed?.find((p) => sameRepository(p.repository, input.repository));
  if (wanted.every((d) => own?.images.some((i) => i.digest === d))) return new Map();
  const dir = recordsDir(stateDir);
  const found = new Map<string, string>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const tag = tagOfRecordName(name);
    const file = path.join(dir, name);
    if (tag === undefined || isLastBuildName(name) || file === recordFile) continue;
    // Whether it is the deployed build, from its head (record-head.ts): that build's own record (a 1M-entry game's is
    // 170 MB) is not read. Of another build, its pushes only, from the end of its file, its head sound
    // (record-pushed.ts). A record of the deployed tag of stop 47's layout (its store last) is read as its summary to
    // tell whose it is.
    const sameTag = tag === record.tags[0];
    const head = recordHead(file);
    if (sameTag && head.store !== undefined && sameBuild(stateDir, record.store, head.store)) continue;
    if (sameTag && head.store === undefined && sameBuild(stateDir, record.store, (await readBuildSummary(file).catch(() => undefined))?.store)) continue;
    for (const p of pushedOfRecord(file, head)) {
      if (!sameRepository(p.repository, input.repository)) continue;
      for (const i of p.images) if (wanted.includes(i.digest) && !found.has(i.digest)) found.set(i.digest, tag);
    }
  }
  return found;
}

/**
 * Whether a record of the deployed build's tag is that build (or may be: the record deployed is often the last-build
 * pointer, a copy): one of the same store, or one of either naming no store (older versions, any store's). Configs
 * sharing the state folder keep a record of the same tag per store (state/record-name.ts): another store's is
 * another build, whose pushes count.
 */
function sameBuild(stateDir: string, deployed: string | undefined, other: string | undefined): boolean {
  return deployed === undefined || other === undefined || storeOfRecord(stateDir, deployed) === storeOfRecord(stateDir, other);
}

/** What a deploy says when some of its images were pushed only by other builds (requirePushed's return). */
export function pushedByOthersNote(input: DeployInput, covered: readonly { name: string; by: string }[]): string | undefined {
  if (covered.length === 0) return undefined;
  const builds = [...new Set(covered.map((c) => c.by))];
  const names = covered.map((c) => c.name);
  return (
    `build ${input.tag} was not pushed to ${input.repository}, but build${builds.length > 1 ? 's' : ''} ${builds.join(', ')} pushed ` +
    `${names.join(', ')} there with the same digest${names.length > 1 ? 's' : ''}, which the spec pins; ` +
    `tag ${input.tag} and its record are there once you run gamelayer push ${input.repository}:${input.tag}`
  );
}
