// `--out -`, as scripts write it for "to stdout": k8s, ecs, codebuild buildspec / imagedefinitions and sbom print
// there, as without --out. They wrote a file (or made a folder) named "-" in the current folder and printed nothing.
// A command that writes a folder of files (dockerfile, the old build --out) refuses it as a usage error.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { sampleGame } from './support/sample.js';

let dir: string;

beforeAll(async () => {
  ({ game: dir } = await sampleGame());
  const built = await runCli(['build', '--tag', 'v1'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
}, 120_000);

describe('--out -', () => {
  const printing: [string, string[]][] = [
    ['k8s', ['k8s', '--local', '--repository', '127.0.0.1:5000/studio/game']],
    ['ecs', ['ecs', '--local', '--repository', '127.0.0.1:5000/studio/game']],
    ['codebuild buildspec', ['codebuild', 'buildspec']],
    ['codebuild imagedefinitions', ['codebuild', 'imagedefinitions', '--local', '--repository', '127.0.0.1:5000/studio/game']],
  ];
  for (const [name, args] of printing) {
    it(`${name} --out - prints what it prints without --out, and writes no "-"`, async () => {
      const plain = await runCli(args, { cwd: dir });
      expect(plain.code, plain.stderr).toBe(0);
      const dash = await runCli([...args, '--out', '-'], { cwd: dir });
      expect(dash.code, dash.stderr).toBe(0);
      expect(existsSync(path.join(dir, '-'))).toBe(false);
      expect(dash.stdout).toBe(plain.stdout);
      expect(dash.stdout.length).toBeGreaterThan(0);
    });
  }

  it('dockerfile --out - is a usage error naming the flag; nothing is written', async () => {
    const r = await runCli(['dockerfile', '--out', '-', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[cli\.usage\]: --out -: dockerfile writes several files into a folder, not to stdout\n/);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('cli.usage');
    expect(existsSync(path.join(dir, '-'))).toBe(false);
  });
});
