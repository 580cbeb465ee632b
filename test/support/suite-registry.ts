// One registry for a test file: started before its tests, stopped after them. Many files wrote the same three
// hooks (`let registry`, `beforeAll` starting it, `afterAll` stopping it); `useRegistry()` is those hooks.
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type StartRegistryOptions, type TestRegistry } from './registry.js';

/**
 * Registers the hooks that start a registry before the file's tests (`timeout` for the start) and stop it after;
 * returns the registry as the tests see it: its fields and methods read from the started one (an error before the
 * `beforeAll` has run).
 */
export function useRegistry(options: StartRegistryOptions = {}, timeout = 60_000): TestRegistry {
  let started: TestRegistry | undefined;
  beforeAll(async () => {
    started = await startRegistry(options);
  }, timeout);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as TestRegistry, {
    get(_target, key) {
      if (!started) throw new Error('the registry is used before beforeAll started it');
      const value: unknown = started[key as keyof TestRegistry];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(started) : value;
    },
  });
}
