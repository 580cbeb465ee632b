// `gamelayer k8s --help | head -1`: the reader of stdout goes away before the CLI wrote; the CLI stops quietly
// (no unhandled EPIPE, no stack), with status 0 or SIGPIPE's 141 (src/cli/closed-stdout.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = path.resolve('src/cli/main.ts');

/** Runs the CLI from source with stdout's read end closed at once; its status and stderr. */
function runWithClosedStdout(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('stdout closed by its reader', () => {
  it.each([[['k8s', '--help']], [['--help']], [['completion', 'bash']]])('gamelayer %j exits quietly', async (args) => {
    const r = await runWithClosedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .+:\d+:\d+/);
    expect([0, 141]).toContain(r.status);
  }, 60_000);
});
