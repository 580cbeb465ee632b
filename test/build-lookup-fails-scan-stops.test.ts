// A build whose registry lookup fails (a 401, a registry down) fails at once; the scan beside it was left running
// and read the whole game for nothing before the command could end (minutes on a cold host, its progress printed
// after the error). The scan is now told and stops. Counted in files hashed after the failure, not in time: the
// registry here answers from the test's own event loop, so the lookup fails within a few turns of the scan's start.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, loadConfig } from '../src/index.js';
import type { Reporter } from '../src/report/reporter.js';
import { writeGame } from './support/trees.js';

// A big file in the first tree scanned, read in 1 MiB pieces (sparse: no disk to fill); the lookup fails while it is.
const BIG = 512 * 1024 ** 2;
// What may still be counted once the failure is known: a piece of each file in flight (8 at once, 1 MiB each).
const IN_FLIGHT = 8 * 1024 ** 2;

let root: string;
let server: http.Server;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-lookup-stop-'));
  server = http.createServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a build whose registry lookup fails', () => {
  it('stops its scan instead of hashing the rest of the game', async () => {
    await writeGame(root);
    await writeFile(path.join(root, 'engine', 'bin', 'big.pak'), '');
    await truncate(path.join(root, 'engine', 'bin', 'big.pak'), BIG);
    const config = await loadConfig(path.join(root, 'gamelayer.yaml'));

    let hashedBytes = 0;
    let hashDone = false;
    const reporter: Reporter = {
      info() {},
      warn() {},
      task(label) {
        const hashing = label.startsWith('hash ');
        return {
          tick: (n: number) => void (hashing && (hashedBytes += n)),
          done: () => void (hashing && label.includes('engine') && (hashDone = true)),
        };
      },
    };
    const { port } = server.address() as AddressInfo;
    await expect(build({ config, tag: 'v1', push: `127.0.0.1:${port}/studio/game`, registry: { insecure: true }, reporter })).rejects.toThrow(/authentication|401|credentials/i);
    const atFailure = hashedBytes;
    // A scan left running shows itself within turns of the event loop (its reads finish on the thread pool): wait
    // until it has been quiet for many turns, it finished, or it read past what was in flight.
    let quiet = 0;
    for (let last = hashedBytes; quiet < 20_000 && !hashDone && hashedBytes - atFailure <= IN_FLIGHT; quiet = hashedBytes === last ? quiet + 1 : 0, last = hashedBytes) {
      await nextTurn();
    }
    // Only the pieces already being read when the lookup failed may still be counted.
    expect(hashDone).toBe(false);
    expect(hashedBytes - atFailure).toBeLessThanOrEqual(IN_FLIGHT);
    expect(atFailure).toBeLessThan(BIG / 2);
  });
});
