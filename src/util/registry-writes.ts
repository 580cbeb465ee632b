// A process-wide refusal of registry writes: set while the fast path's stamp pass runs (cli/fast-noop/stamp-pass.ts),
// a hidden no-op that must only read. Kept on globalThis: the launcher that sets it and the CLI whose transport reads
// it are separate bundles, each with its own copy of this module.

const KEY = Symbol.for('gamelayer.registry-writes-refused');

/** From now on every request but GET and HEAD fails with `why`; undefined allows them again. */
export function refuseRegistryWrites(why: string | undefined): void {
  (globalThis as { [KEY]?: string })[KEY] = why;
}

/** Why registry writes are refused now, or undefined. */
export function registryWritesRefused(): string | undefined {
  return (globalThis as { [KEY]?: string })[KEY];
}
