// A private containerd (Debian's containerd 1.6, what EKS nodes run) for pull tests: its own root, state and socket
// under a short temp path, the CRI plugin off; `ctr` talks to it by address. Stopped by pid.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateContainerd {
  address: string;
  /** Runs `ctr --address … args`; rejects with ctr's stderr on failure. */
  ctr(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<PrivateContainerd> {
  // Socket paths must stay short (sun_path is 108 bytes): /tmp, not a nested test dir.
  const dir = await mkdtemp('/tmp/gl-ctrd-');
  const address = path.join(dir, 'c.sock');
  const config = path.join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', config], { stdio: 'ignore' });
  const ctr = async (...args: string[]) => (await run('ctr', ['--address', address, ...args], { maxBuffer: 16 << 20 })).stdout;
  for (let i = 0; i < 100; i++) {
    if (existsSync(address) && (await ctr('version').then(() => true, () => false))) break;
    if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    ctr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
