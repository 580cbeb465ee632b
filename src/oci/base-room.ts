// A base image counts against `layers.maxLayers` (the runtimes' limit on layers of one image): a base with too many
// layers leaves no room for a layer per tree. Said at the `baseImage` field as soon as the base is read; it was an
// internal error from the planner (`planLayers: the base image has 130 layers, leaving fewer than one per tree`).
import { configPosition, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { TREE_NAMES } from '../types.js';

/** Refuses a base of `layers` layers that leaves fewer than one layer per tree under `layers.maxLayers`. */
export async function assertBaseLayerRoom(config: Pick<GameConfig, 'file' | 'baseImage' | 'layers'>, layers: number): Promise<void> {
  const max = config.layers.maxLayers;
  if (max - layers >= TREE_NAMES.length) return;
  throw new GamelayerError(
    'base.too-many-layers',
    `${await configPosition(config.file, ['baseImage'])}: baseImage: ${config.baseImage} has ${layers} layers; under layers.maxLayers ${max} that leaves fewer than one layer for each of the ${TREE_NAMES.length} trees`,
    `use a base image with at most ${max - TREE_NAMES.length} layers (squash it), or raise layers.maxLayers (at most 120)`,
  );
}
