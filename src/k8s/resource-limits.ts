// A container's requests and limits after gamelayer.yaml's values are merged over the computed ones, key by key:
// the config's own pairs are checked at load, but a limit set there can still fall below a request that a flag (or
// its default) gives, and the API server refuses such a container at apply time. Refused here, naming both sides.
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { compareQuantities, parseQuantity } from '../config/quantity.js';
import { GamelayerError } from '../errors.js';

export interface MergedResources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

/** Where a computed value comes from, per side and resource: the flag that sets it. */
export type ComputedFrom = Record<'requests' | 'limits', Record<string, string>>;

export function checkMergedLimits(merged: MergedResources, over: IResourceRequirements | undefined, field: 'resources' | 'copyResources', from: ComputedFrom): void {
  for (const [name, limitValue] of Object.entries(merged.limits)) {
    const requestValue = merged.requests[name];
    const limit = parseQuantity(limitValue);
    const request = parseQuantity(requestValue);
    if (!limit || !request || compareQuantities(limit, request) >= 0) continue;
    const side = (kind: 'requests' | 'limits', value: string) =>
      (over?.[kind] as Record<string, unknown> | undefined)?.[name] !== undefined
        ? `deploy.${field}.${kind}.${name} ${value}`
        : `${kind}.${name} ${value} (${from[kind][name] ?? 'computed'})`;
    throw new GamelayerError(
      'deploy.option',
      `${side('limits', limitValue)} is below ${side('requests', requestValue!)}: Kubernetes refuses a limit lower than its request`,
      `set both deploy.${field}.requests.${name} and deploy.${field}.limits.${name} in gamelayer.yaml, or change the flag`,
    );
  }
}
