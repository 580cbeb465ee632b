// A real registry behind test/support/counting-proxy.ts, started once for a test file: tests count the requests
// (`proxy.seen`) a command sends through `proxy.host`, and read the registry itself directly.
import { afterAll, beforeAll } from 'vitest';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { startRegistry, type StartRegistryOptions, type TestRegistry } from './registry.js';
import { started } from './started.js';

export interface CountingRegistry {
  readonly registry: TestRegistry;
  readonly proxy: CountingProxy;
}

/**
 * Registers the start and stop hooks in the calling scope; the fields are there from its beforeAll on. `options`
 * start the registry (relativeUrls: a client behind the proxy stays behind it); `proxy.mode` may be switched later.
 */
export function useCountingRegistry(mode: 'buffer' | 'stream', options: StartRegistryOptions = {}): CountingRegistry {
  let registry: TestRegistry | undefined;
  let proxy: CountingProxy | undefined;
  beforeAll(async () => {
    registry = await startRegistry(options);
    proxy = await startCountingProxy(registry.host, mode);
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });
  return {
    get registry() {
      return started(registry, 'useCountingRegistry');
    },
    get proxy() {
      return started(proxy, 'useCountingRegistry');
    },
  };
}
