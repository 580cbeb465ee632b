// A registry and the fake KMS for a test file that signs with `awskms://` keys: started before its tests, stopped
// after; and the environment the CLI needs to reach the fake (its test credentials, no instance metadata).
import { afterAll, beforeAll } from 'vitest';
import { KMS_TEST_CREDENTIALS, KMS_TEST_REGION, startFakeKms, type FakeKms } from './fake-kms.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { started } from './started.js';

export const KMS_ENV = {
  AWS_ACCESS_KEY_ID: KMS_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: KMS_TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: KMS_TEST_REGION,
  AWS_EC2_METADATA_DISABLED: 'true',
};

/** Registers the start and stop hooks in the calling scope; the fields are there from its beforeAll on. */
export function useRegistryAndKms(): { readonly reg: TestRegistry; readonly kms: FakeKms } {
  let reg: TestRegistry | undefined;
  let kms: FakeKms | undefined;
  beforeAll(async () => {
    [reg, kms] = await Promise.all([startRegistry(), startFakeKms()]);
  });
  afterAll(async () => {
    await Promise.all([reg?.stop(), kms?.stop()]);
  });
  return {
    get reg() {
      return started(reg, 'useRegistryAndKms');
    },
    get kms() {
      return started(kms, 'useRegistryAndKms');
    },
  };
}
