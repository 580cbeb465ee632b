// The README's gamelayer.yaml example, as a user copies it: it loads through the library as installed (dist/, the
// JavaScript tsc emits, where `new (require('ajv') as T).Ajv(…)` lost its parentheses and loadConfig threw
// "Class constructor Ajv cannot be invoked without 'new'" on its deploy: section) and through the CLI.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe("the README's gamelayer.yaml example", () => {
  it('loads with the library (dist) and the CLI: the first error is the missing tree source, not the config', async () => {
    const readme = await readFile('README.md', 'utf8');
    const example = /## The game config: `gamelayer\.yaml`\n+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain('deploy:');
    const dir = await tempDir('readme-config-');
    await writeFile(path.join(dir, 'gamelayer.yaml'), example!);

    const library = pathToFileURL(path.resolve('dist/index.js')).href;
    const loaded = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const { loadConfig } = await import(${JSON.stringify(library)}); const c = await loadConfig('gamelayer.yaml'); console.log(JSON.stringify({ game: c.game, tolerations: c.deploy?.tolerations?.length }));`],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(JSON.parse(loaded)).toEqual({ game: 'my-game', tolerations: 1 });

    const scan = await runCli(['scan'], { cwd: dir });
    expect(scan.code).toBe(1);
    expect(scan.stderr).toMatch(/^error\[scan\.source-missing\]: .*trees\.engine\.source: /);
  });
});
