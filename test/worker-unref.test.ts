// The image stage's worker threads never keep the process alive by themselves: a layer whose content is refused
// before its first block was compressed (the gzip pool's worker started for its digests, no job sent yet) used to
// leave the worker's port referenced, so the CLI printed its error and then never exited.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';

const children: ReturnType<typeof spawn>[] = [];
// The test's own timeout is what a hang meets: leave no process behind.
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Runs an ES module in a fresh node; resolves with its exit code once it exits on its own. */
async function runAlone(source: string): Promise<{ code: number | null; stderr: string }> {
  const file = path.join(await tempDir(), 'alone.mjs');
  await writeFile(file, source);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('a worker started for a stream that fails before its first job', () => {
  it('gzip with digests, destroyed before any block: the process exits on its own', async () => {
    const gzip = pathToFileURL(path.resolve('dist/oci/gzip.js')).href;
    const r = await runAlone(
      [
        `import { createDigestingGzip } from ${JSON.stringify(gzip)};`,
        'const g = createDigestingGzip();',
        "g.on('error', () => {});",
        "g.destroy(new Error('the layer content was refused'));",
      ].join('\n'),
    );
    expect(r.code, r.stderr).toBe(0);
  }, 30_000);
});
