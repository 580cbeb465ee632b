// stdout on a full device (`gamelayer … > /dev/full`, a full disk under `> file`): every write fails with ENOSPC.
// The stdout error listener rethrew it, and Node printed its stack (status 1, "Error: ENOSPC … at writeSync").
// It is now one error line, error[disk.full] naming standard output, status 1.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/cli-process.js';

function runToDevFull(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const fd = openSync('/dev/full', 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, 'pipe'] });
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
});
