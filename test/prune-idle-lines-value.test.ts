// `prune REPO --idle-lines abc` said "--idle-lines NaN: expected a number of days above 0" (the value as parsed, not as
// given), and only after listing the repository's tags and reading its records. The value is now checked first and
// named as given; the registry is asked nothing.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();

describe('prune --idle-lines with a value that is no number of days', () => {
  it('names the value as given, exits 2, and asks the registry nothing', async () => {
    await registry.resetAccessLog();
    for (const value of ['abc', '0', '-1', '']) {
      const r = await runCli(['prune', `${registry.host}/studio/game`, '--idle-lines', value]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`error[cli.keep]: --idle-lines ${value}: expected a number of days above 0\n`);
    }
    expect(await registry.accessLog()).toEqual([]);
  });
});
