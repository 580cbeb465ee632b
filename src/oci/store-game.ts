// A local store holds the images of one game. Tags in index.json are plain tags (`latest`, `v1-app`: what skopeo,
// umoci and `oci:DIR:TAG` look up), so two games building into one store would overwrite each other's tags and
// one game's `push …:latest` would send the other's image. Rather than renaming tags per game (which would break
// every OCI tool reading the layout), each tag carries the game that made it (`dev.gamelayer.game` on its
// index.json entry), a build refuses a store that holds another game's images, and push refuses to send an
// image of another game. Entries written before the annotation existed are recognised by their image labels.
import { GamelayerError } from '../errors.js';
import type { Descriptor } from '../types.js';
import { REF_NAME, type OciStore } from './store.js';

export const GAME_ANNOTATION = 'dev.gamelayer.game';

/** The game an index.json entry belongs to: its annotation, else the label gamelayer puts on every image; undefined for foreign images. */
export async function entryGame(store: OciStore, entry: Descriptor): Promise<string | undefined> {
  const annotated = entry.annotations?.[GAME_ANNOTATION];
  if (annotated !== undefined) return annotated;
  return labelledGame(store, entry.digest, 0);
}

async function labelledGame(store: OciStore, digest: string, depth: number): Promise<string | undefined> {
  if (depth > 2) return undefined;
  const doc = JSON.parse((await store.readBlob(digest)).toString('utf8')) as {
    annotations?: Record<string, string>;
    manifests?: Descriptor[];
    config?: Descriptor;
  };
  if (Array.isArray(doc.manifests)) {
    const own = doc.annotations?.[GAME_ANNOTATION];
    if (own !== undefined || doc.manifests.length === 0) return own;
    return labelledGame(store, doc.manifests[0]!.digest, depth + 1);
  }
  if (!doc.config?.digest) return undefined;
  const config = JSON.parse((await store.readBlob(doc.config.digest)).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
  return config.config?.Labels?.[GAME_ANNOTATION];
}

/** Refuses to build `game` into a store whose tags belong to another game. */
export async function assertStoreOfGame(store: OciStore, game: string, configFile: string): Promise<void> {
  const index = await store.readIndex();
  for (const entry of index.manifests) {
    const tag = entry.annotations?.[REF_NAME];
    if (tag === undefined) continue;
    const owner = await entryGame(store, entry).catch(() => undefined);
    if (owner !== undefined && owner !== game) {
      throw new GamelayerError(
        'build.store-other-game',
        `${store.dir}: this store holds images of the game "${owner}" (tag ${tag}); ${configFile} builds "${game}", whose tags would replace them`,
        'give each game its own store: the default is .gamelayer/oci beside each gamelayer.yaml; set "store:" there or pass --store DIR',
      );
    }
  }
}
