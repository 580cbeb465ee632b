// stdout on a full device (`gamelayer … > /dev/full`, a full disk under `> file`): every write fails with ENOSPC.
// The stdout error listener rethrew it, and Node printed its stack (status 1, "Error: ENOSPC … at writeSync").
// It is now one error line, error[disk.full] naming standard output, status 1, printed by the CLI's one error
// printer (src/cli/report-error.ts), as every other error is.
import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportError } from '../src/cli/report-error.js';
import { stdoutWriteError } from '../src/util/disk-full.js';
import { CLI } from './support/cli-process.js';

/** Runs the CLI with stdout on `file` opened with `flags` (`/dev/full`: every write fails with ENOSPC). */
function runToDevFull(
  args: string[],
  { file = '/dev/full', flags = 'w', env = {} }: { file?: string; flags?: string; env?: Record<string, string> } = {},
): Promise<{ status: number | null; stderr: string }> {
  const fd = openSync(file, flags);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, ...env } });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('stdout on a full device', () => {
  it.each([[['k8s', '--help']], [['completion', 'bash']]])('gamelayer %j says so, without a stack', async (args) => {
    const r = await runToDevFull(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[disk.full]: standard output: no space left on the device (ENOSPC)');
    expect(r.stderr).not.toMatch(/at .+:\d+:\d+|Node\.js v/);
  });

  it('prints exactly what the CLI\'s error printer prints for that error, under --json too', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const expected = printed(() => reportError(stdoutWriteError(enospc), false));
    expect(expected.status).toBe(1);
    for (const args of [['k8s', '--help'], ['k8s', '--help', '--json']]) {
      const r = await runToDevFull(args);
      expect(r.status).toBe(expected.status);
      // Once: the --json form, written to the same full stdout, fails again without a second report.
      expect(r.stderr).toBe(expected.stderr);
    }
  }, 60_000);

  it('another failed write is an internal error that shows its stack under GAMELAYER_DEBUG, as any other', async () => {
    // stdout opened read-only: every write fails with EBADF. The old listener printed its own text, the hint
    // "rerun with GAMELAYER_DEBUG=1 and report the stack" even when rerun so, and never a stack.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gl-stdout-')), 'read-only');
    writeFileSync(file, '');
    const plain = await runToDevFull(['k8s', '--help'], { file, flags: 'r' });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/^error\[internal\]: standard output: EBADF: bad file descriptor, write\nhint: this looks like a bug/);
    const debug = await runToDevFull(['k8s', '--help'], { file, flags: 'r', env: { GAMELAYER_DEBUG: '1' } });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toContain('error[internal]: standard output: EBADF');
    expect(debug.stderr).toMatch(/\n\s+at .+:\d+:\d+/);
    expect(debug.stderr).not.toContain('hint:');
  }, 60_000);
});

/** What `print` writes to stderr (captured, not shown) and the status it returns. */
function printed(print: () => number): { status: number; stderr: string } {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { status: print(), stderr };
  } finally {
    process.stderr.write = write;
  }
}
