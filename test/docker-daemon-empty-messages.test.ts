// The Docker daemon's JSON-lines answers (build, load) hold messages that say nothing: `{"stream":null}`,
// `{"stream":""}`, `{"stream":"\n"}` between the others, `{"status":null}`, even a bare `null`. `load` (and
// `build --builder docker` loading an oci: base) printed an empty line for `{"stream":"\n"}`, and a `null` message
// failed the build ("Cannot read properties of null (reading 'error')"). Such messages now print nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startScriptedDaemon, type ScriptedDaemon } from './support/scripted-daemon.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const EMPTY = ['{"stream":null}', '{"stream":""}', '{"stream":"\\n"}', '{"status":null}', '{"status":""}', 'null', '{"stream":null,"status":null}'];
let dir: string;
let daemon: ScriptedDaemon;
/** What the fake daemon answers a build or a load with, one JSON message a line. */
let answer: string[] = [];

beforeAll(async () => {
  dir = await tempDir('gl-docker-empty-');
  await writeGame(dir);
  daemon = await startScriptedDaemon(dir, { Version: '24.0.7', ApiVersion: '1.43' }, () => answer);
});
afterAll(async () => {
  await daemon?.close();
});

const env = () => daemon.env;
const blankLines = (text: string) => text.split('\n').slice(0, -1).filter((l) => l.trim() === '' || l.trim() === 'null');

describe('messages of the Docker daemon that say nothing', () => {
  it('load prints nothing for them, and the lines that say something', async () => {
    const built = await runCli(['build', '-t', 'b1'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    answer = [...EMPTY, '{"stream":"Loaded image: game:b1\\n"}', ...EMPTY];
    const r = await runCli(['load', '-t', 'b1'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Loaded image: game:b1\n');
    expect(blankLines(r.stderr)).toEqual([]);
    expect(blankLines(r.stdout)).toEqual([]);
  });

  it('build --builder docker prints nothing for them and builds', async () => {
    answer = [...EMPTY, '{"stream":"Step 1/2 : FROM scratch\\n"}', ...EMPTY, '{"stream":"Step 2/2 : COPY . /\\n"}', '{"stream":"Successfully built aaaaaaaaaaaa\\n"}'];
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '-t', 'd1'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^docker server: Step 2\/2 : COPY \. \/$/m);
    expect(blankLines(r.stderr)).toEqual([]);
  });
});
