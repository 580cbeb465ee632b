// A gamelayer.yaml holding a second YAML document (a `---` line, two configs pasted into one file). The old message
// was the yaml library's own: "Source contains multiple documents; please use YAML.parseAllDocuments()", which
// tells a user to call a function.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('a config file of two YAML documents', () => {
  it('is refused at the second document, in words about the file', async () => {
    const dir = await tempDir('gl-two-docs-');
    const text = ['game: one', 'start: [/x]', 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: .}`), '---', 'game: two', ''].join('\n');
    await writeFile(path.join(dir, 'game.yaml'), text);
    const r = await runCli(['-c', 'game.yaml', 'scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[config.yaml]: ${path.join(dir, 'game.yaml')}:8:1: invalid YAML: a second document starts here (---); game.yaml is one document\n` +
        'hint: remove the second document, or the --- line that starts it\n',
    );
  });
});
