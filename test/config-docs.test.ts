// docs/config.md documents every field of the gamelayer.yaml schema and every config error code.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { ERROR_CODES } from '../src/error-codes.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

type Shaped = { shape?: Record<string, unknown>; def?: { innerType?: unknown; shape?: unknown } };
function shapeOf(s: unknown): Record<string, unknown> | undefined {
  let cur = s as Shaped | undefined;
  while (cur && !cur.shape && cur.def?.innerType) cur = cur.def.innerType as Shaped;
  return cur?.shape;
}

describe('docs/config.md', () => {
  it('names every field of the schema, with its path', async () => {
    const doc = await readFile('docs/config.md', 'utf8');
    const fields: string[] = [];
    for (const [k, v] of Object.entries(configSchema().shape)) {
      fields.push(k);
      if (k === 'layers') for (const sub of Object.keys(shapeOf(v)!)) fields.push(`layers.${sub}`);
      if (k === 'trees') for (const sub of Object.keys(shapeOf(Object.values(shapeOf(v)!)[0])!)) fields.push(`trees.<tree>.${sub}`);
    }
    expect(fields).toContain('layers.maxLayerSize');
    expect(fields).toContain('trees.<tree>.exclude');
    expect(fields.filter((f) => !doc.includes(`| \`${f}\` |`))).toEqual([]);
  });

  it('names every key of init --json', async () => {
    const dir = await tempDir('config-docs-init-');
    await mkdir(path.join(dir, 'engine'));
    const r = await runCli(['init', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const keys = Object.keys(JSON.parse(r.stdout) as object);
    expect(keys).toContain('trees');
    const doc = (await readFile('docs/config.md', 'utf8')).replace(/\s+/g, ' ');
    const listed = /`--json` prints the proposal: (.*?)\./.exec(doc)?.[1] ?? '';
    expect(keys.filter((k) => !listed.includes(`\`${k}\``))).toEqual([]);
  });

  it('lists every config.* error code', async () => {
    const doc = await readFile('docs/config.md', 'utf8');
    expect(ERROR_CODES.filter((c) => c.startsWith('config.') && !doc.includes(`\`${c}\``))).toEqual([]);
  });
});
