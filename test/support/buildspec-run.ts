// Runs a buildspec's phases as CodeBuild 0.2 runs them: every command of pre_build, build and post_build in one bash,
// in order, stopping at the first that fails; `gamelayer` on the PATH is this checkout's CLI (what `npm ci` and the
// install phase's PATH line give), and the spec's variables under the caller's `env`.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Buildspec } from '../../src/codebuild/buildspec-schema.js';

export interface PhaseRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `work` holds the `gamelayer` shim and the script, and is HOME; `src` is the checkout (CODEBUILD_SRC_DIR). */
export async function runBuildspecPhases(spec: Buildspec, src: string, env: Record<string, string>, work: string): Promise<PhaseRun> {
  const root = path.resolve(import.meta.dirname, '../..');
  const bin = path.join(work, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'gamelayer'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin/gamelayer.js')}" "$@"\n`, { mode: 0o755 });
  const lines: string[] = [];
  for (const phase of ['pre_build', 'build', 'post_build'] as const) {
    for (const command of spec.phases[phase]?.commands ?? []) {
      lines.push(`echo "[${phase}] ${command.replace(/["\\$`]/g, '\\$&')}" >&2`, command, `rc=$?; if [ $rc -ne 0 ]; then echo "[${phase}] failed with $rc" >&2; exit $rc; fi`);
    }
  }
  const script = path.join(work, 'phases.sh');
  await writeFile(script, `${lines.join('\n')}\n`);
  return new Promise((resolve) => {
    const child = spawn('bash', [script], {
      cwd: src,
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        HOME: work,
        CODEBUILD_SRC_DIR: src,
        CODEBUILD_BUILD_ID: 'sample-game:0b6f1d2c-1111-4222-8333-944445555666',
        CODEBUILD_BUILD_NUMBER: '12',
        ...spec.env?.variables,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
