// A removed build's tags a prune had to leave (distribution deletes by digest only, so `v1-engine` stays beside a kept
// `v2-engine` naming the same image) are deleted by a later prune once no kept build needs their image
// (prune-leftovers.ts). Their build's record is gone by then, so the tag's name alone (`<build>-<tree>`) was taken for
// proof, and a tag put by hand so shaped (`release-engine`) was deleted as prune's own. Prune now writes down what it
// leaves: before its deletes, a note per removed build, tagged `<build>.gamelayer-left`, naming each tag it leaves and
// the image it names. A later prune deletes a left tag only when a note names it with the image it still names; the
// note goes once none of its tags is left.
import { GamelayerError } from '../errors.js';
import { TREE_NAMES } from '../types.js';
import { MEDIA_TYPES, type RegistryClient } from './client.js';
import { manifestName, manifestObject, type ManifestReads } from './index-entries.js';
import { bufferSource, EMPTY_CONFIG } from './small-blob.js';
import { uploadBlob } from './upload.js';

export const LEFT_TAG_SUFFIX = '.gamelayer-left';
export const LEFT_NOTE_ARTIFACT_TYPE = 'application/vnd.gamelayer.left-tags.v1+json';
/** The note's annotation: a JSON object, tag → the digest it named when prune left it. */
const LEFT_TAGS = 'dev.gamelayer.left-tags';
const BUILD = 'dev.gamelayer.build';

export interface LeftNote {
  /** The note's tag, `<build>.gamelayer-left`. */
  tag: string;
  /** The note manifest's digest (deleted by it). */
  digest: string;
  build: string;
  /** Tag → the digest it named when it was left. */
  entries: Map<string, string>;
}

export const leftNoteTag = (build: string) => `${build}${LEFT_TAG_SUFFIX}`;

/** Whether `tag` is one of build `build`'s own: its server tag or one of its tree tags. */
export const ofBuild = (tag: string, build: string) => tag === build || TREE_NAMES.some((tree) => tag === `${build}-${tree}`);

/**
 * The notes among `tags`. A note counts only as gamelayer wrote it: its artifact type, its build the one its tag
 * names, and only entries that are that build's tags with a digest; anything else under such a tag proves nothing.
 */
export async function readLeftNotes(client: RegistryClient, repo: string, reads: ManifestReads, tags: Set<string>, read: <T>(f: () => Promise<T>) => Promise<T>): Promise<LeftNote[]> {
  const noteTags = [...tags].filter((t) => t.endsWith(LEFT_TAG_SUFFIX) && t.length > LEFT_TAG_SUFFIX.length).sort();
  const notes = await Promise.all(noteTags.map((t) => read(() => readLeftNote(client, repo, reads, t))));
  return notes.filter((n): n is LeftNote => n !== undefined);
}

async function readLeftNote(client: RegistryClient, repo: string, reads: ManifestReads, tag: string): Promise<LeftNote | undefined> {
  const build = tag.slice(0, -LEFT_TAG_SUFFIX.length);
  const m = await client.getManifest(repo, tag);
  reads.keep(m);
  const doc = manifestObject(m.bytes, manifestName(client, repo, tag));
  const annotations = (doc.annotations ?? {}) as Record<string, unknown>;
  if (doc.artifactType !== LEFT_NOTE_ARTIFACT_TYPE || annotations[BUILD] !== build || typeof annotations[LEFT_TAGS] !== 'string') return undefined;
  let listed: unknown;
  try {
    listed = JSON.parse(annotations[LEFT_TAGS]);
  } catch {
    return undefined;
  }
  if (!listed || typeof listed !== 'object' || Array.isArray(listed)) return undefined;
  const entries = new Map<string, string>();
  for (const [t, d] of Object.entries(listed)) if (ofBuild(t, build) && typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d)) entries.set(t, d);
  return { tag, digest: m.digest, build, entries };
}

/** The manifest of a note: an OCI artifact (the empty config and one empty layer) whose annotations say what was left. */
export function leftNoteManifest(build: string, entries: Map<string, string>): Buffer {
  const sorted = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: LEFT_NOTE_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers: [EMPTY_CONFIG],
      annotations: { [BUILD]: build, [LEFT_TAGS]: JSON.stringify(sorted) },
    }),
  );
}

/** Puts each note under its tag (the empty blob first: the registry may have collected it with the last record). */
export async function writeLeftNotes(client: RegistryClient, repo: string, notes: { build: string; entries: Map<string, string> }[]): Promise<void> {
  if (!notes.length) return;
  await uploadBlob(client, repo, bufferSource(EMPTY_CONFIG.digest, Buffer.from('{}'), 'the empty config of a prune note'));
  for (const n of notes) {
    try {
      await client.putManifest(repo, leftNoteTag(n.build), leftNoteManifest(n.build, n.entries), MEDIA_TYPES.ociManifest);
    } catch (e) {
      if (!(e instanceof GamelayerError)) throw e;
      throw new GamelayerError(e.code, `${e.message} (the note of the tags prune leaves of ${n.build}, ${leftNoteTag(n.build)}: written before anything is deleted, so nothing was)`, e.hint, { cause: e });
    }
  }
}
