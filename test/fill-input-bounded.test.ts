// Files a user hands to `k8s --fill` and `prune --keep-deployed` are read only up to a bound, through the CLI: a
// file or stdin past it is refused naming it (was: read whole, and `--fill /dev/zero` grew memory without end).
// A FIFO is still read as a stream (`--fill <(helm template .)`).
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, sleep, startCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const LIMIT = 64 * 1024 * 1024;
const REPO = '127.0.0.1:5999/studio/test-game';
let dir: string;

/** The CLI's stderr once `seen` holds of it, or as it is after 30 s (the caller's expect then fails, naming it). */
async function until(run: ReturnType<typeof startCli>, seen: (stderr: string) => boolean): Promise<string> {
  let stderr = '';
  run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 3000 && !seen(stderr); i++) await sleep(10);
  return stderr;
}

beforeAll(async () => {
  dir = await tempDir();
  await writeGame(dir);
  const b = await runCli(['build'], { cwd: dir });
  expect(b.code).toBe(0);
});

describe('k8s --fill and prune --keep-deployed read a bounded amount', () => {
  it('--fill of a file past the bound: fill.read naming it, nothing written', async () => {
    const big = path.join(dir, 'big.yaml');
    await writeFile(big, 'image: gamelayer://server\n');
    await truncate(big, LIMIT + 1);
    const r = await runCli(['k8s', '--local', '--repository', REPO, '--fill', big, '--out', path.join(dir, 'filled')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[fill.read]: ${big}: more than ${LIMIT} bytes, more than a manifest holds\n` +
        'hint: give --fill the Kubernetes manifests to fill (YAML files, or - for stdin)\n',
    );
  });

  it('--fill - with more than the bound on stdin: fill.read naming stdin', async () => {
    const r = await runCli(['k8s', '--local', '--repository', REPO, '--fill', '-'], { cwd: dir, stdin: ' '.repeat(LIMIT + 1) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[fill.read]: (stdin): more than ${LIMIT} bytes, more than a manifest holds\n`);
  });

  it('--fill of a FIFO (process substitution) is still read as a stream', async () => {
    const fifo = path.join(dir, 'helm.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['k8s', '--local', '--repository', REPO, '--fill', fifo], { cwd: dir });
    const w = createWriteStream(fifo);
    w.end('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: gamelayer://server\n');
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`- image: ${REPO.replace(/\./g, '\\.')}@sha256:[a-f0-9]{64}\n$`));
  });

  it('--fill of a FIFO with no writer yet: says it waits, naming it, and reads what a writer then sends', async () => {
    const fifo = path.join(dir, 'late.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['k8s', '--local', '--repository', REPO, '--fill', fifo], { cwd: dir });
    // Was: no word at all, the command hung silently (a CI log showed nothing) until a writer came.
    const notice = `warning: --fill ${fifo}: a FIFO with no writer yet; waiting for one to write the input (Ctrl-C to stop, or give a regular file)\n`;
    const said = await until(run, (stderr) => stderr.includes(notice));
    if (!said.includes(notice)) run.child.kill('SIGKILL'); // it would wait for ever
    expect(said).toContain(notice);
    const w = createWriteStream(fifo);
    w.end('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: gamelayer://server\n');
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`- image: ${REPO.replace(/\./g, '\\.')}@sha256:[a-f0-9]{64}\n$`));
  });

  it('--keep-deployed of a file past the bound: refused before the registry is asked', async () => {
    const big = path.join(dir, 'deployed.yaml');
    await writeFile(big, `image: ${REPO}@sha256:${'a'.repeat(64)}\n`);
    await truncate(big, LIMIT + 1);
    const r = await runCli(['prune', REPO, '--keep-deployed', big], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[cli.usage]: --keep-deployed ${big}: more than ${LIMIT} bytes, more than a spec holds\n` + 'hint: name the deployed spec files (YAML or JSON)\n',
    );
  });
});
