// A build whose previous build comes from .gamelayer/, has no chunked tree and a large record reads that record once
// the scan is done (a 1M-entry game's record is then not held beside the walk); with a chunked tree, a registry or
// a small record, beside it. Seen through the reporter: a damaged last record's warning comes after the scan's last
// hashing task. `recordStream.minBytes` is lowered so that the sample's record is large.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { previousReadAfterScan } from '../src/pipeline/steps/previous.js';
import type { Reporter } from '../src/report/reporter.js';
import { recordStream } from '../src/state/records.js';
import { sampleGame } from './support/sample.js';

function ordered(): Reporter & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    info: () => undefined,
    warn: (m) => void events.push(`warn ${m}`),
    task: (label) => {
      events.push(`task ${label}`);
      return { tick: () => undefined, done: () => void events.push(`done ${label}`) };
    },
  };
}

const savedMin = recordStream.minBytes;
beforeEach(() => {
  recordStream.minBytes = 0;
});
afterEach(() => {
  recordStream.minBytes = savedMin;
});

describe('the previous build read after the scan', () => {
  it('is read once every tree is hashed, when it is local and no tree is chunked', async () => {
    const { game, config } = await sampleGame();
    await build({ config });
    await writeFile(path.join(game, '.gamelayer/records/build-last.json'), '{"kind":"build",');
    for (const t of ['app-media', 'app']) await writeFile(path.join(game, t, 'edited.txt'), `${t}\n`);
    const reporter = ordered();
    await build({ config, reporter });
    const warned = reporter.events.findIndex((e) => e.startsWith('warn') && e.includes('planning every tree afresh'));
    const hashed = reporter.events.map((e, i) => (e.startsWith('done hash') ? i : -1)).filter((i) => i >= 0);
    expect(hashed.length, reporter.events.join('\n')).toBeGreaterThanOrEqual(2);
    expect(warned).toBeGreaterThan(Math.max(...hashed));
  });

  it('is read beside the scan with a chunked tree, from a registry, or when the record is small', async () => {
    const { config } = await sampleGame();
    await build({ config });
    const local = { config, rebase: false, from: undefined, push: undefined };
    expect(await previousReadAfterScan(local)).toBe(true);
    expect(await previousReadAfterScan({ ...local, push: 'localhost:5000/game' })).toBe(false);
    expect(await previousReadAfterScan({ ...local, from: 'localhost:5000/game:v1' })).toBe(false);
    expect(await previousReadAfterScan({ ...local, push: 'localhost:5000/game', rebase: true })).toBe(true);
    const chunked = { ...config, trees: { ...config.trees, 'app-media': { ...config.trees['app-media'], chunks: { minFileSize: 1 << 20, avgChunkSize: 1 << 16 } } } };
    expect(await previousReadAfterScan({ ...local, config: chunked as typeof config })).toBe(false);
    recordStream.minBytes = 32 << 20;
    expect(await previousReadAfterScan(local)).toBe(false);
  });
});
