// A registry host written where a repository belongs (`registry: 127.0.0.1:5000`, `gamelayer ls localhost:5000`)
// passes Docker's grammar as the Docker Hub image library/<host> tagged with the port: gamelayer then asked Docker
// Hub for it ("cannot resolve registry host registry-1.docker.io", or on a host with internet a push towards Docker
// Hub). It is refused at once, naming the host and the missing repository, before anything is read or written.
// A dead proxy (127.0.0.1:1) stands between these commands and any registry that is not loopback, so the old
// behaviour fails here without traffic leaving the machine.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const env = { HTTPS_PROXY: 'http://127.0.0.1:1', HTTP_PROXY: 'http://127.0.0.1:1', NO_PROXY: '', GAMELAYER_REGISTRY_RETRIES: '1', CI: '1' };

async function game(head: string[]): Promise<string> {
  const dir = await tempDir('gl-host-only-');
  await writeTinyGame(dir, ['game: host-only', 'start: [/opt/local/engine/run]', ...head]);
  return dir;
}

describe('a registry host without a repository', () => {
  it('registry: in gamelayer.yaml is refused at its line, before anything is built', async () => {
    const dir = await game(['registry: 127.0.0.1:5000']);
    const r = await runCli(['build', '--push'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:3:11: registry: 127.0.0.1:5000 is a registry host with no repository after it (Docker would read "127.0.0.1:5000" as the Docker Hub image library/127.0.0.1): write host[:port]/repository, such as 127.0.0.1:5000/studio/my-game`,
    );
    expect(existsSync(path.join(dir, '.gamelayer'))).toBe(false);
  });

  it('baseImage: in gamelayer.yaml is refused the same way, a dotted host without a port too', async () => {
    for (const [base, host] of [
      ['registry.studio.internal:5000', 'registry.studio.internal:5000'],
      ['localhost', 'localhost'],
      ['123456789012.dkr.ecr.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ]) {
      const dir = await game([`baseImage: ${base}`]);
      const r = await runCli(['build'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`gamelayer.yaml:3:12: baseImage: ${host} is a registry host with no repository after it`);
      expect(existsSync(path.join(dir, '.gamelayer'))).toBe(false);
    }
  });

  it('Docker Hub images of one name stay images: ubuntu:22.04, debian', async () => {
    for (const base of ['ubuntu:22.04', 'debian']) {
      const dir = await game([`baseImage: ${base}`]);
      // scan loads the config and reads no base image.
      const r = await runCli(['scan'], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('every command taking a repository or reference refuses it, naming the host, and asks no registry', async () => {
    const dir = await game([]);
    const cases: [string[], string][] = [
      [['ls', 'localhost:5000'], 'localhost:5000'],
      [['prune', '127.0.0.1:5000'], '127.0.0.1:5000'],
      [['push', 'registry.studio.internal:5000:v1'], 'registry.studio.internal:5000'],
      [['build', '--push', '127.0.0.1:5000'], '127.0.0.1:5000'],
      [['diff', '--against', '127.0.0.1:5000'], '127.0.0.1:5000'],
    ];
    for (const [args, host] of cases) {
      const r = await runCli(args, { cwd: dir, env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toContain(`error[registry.reference]: invalid image reference "${args.at(-1)}": ${host} is a registry host with no repository after it`);
      expect(r.stderr, args.join(' ')).toContain(`such as ${host}/studio/my-game`);
      expect(r.stderr, args.join(' ')).not.toContain('docker.io');
    }
  });

  it('a bare tag that looks like a version stays a tag: push 1.4.2 goes to registry: of gamelayer.yaml', async () => {
    const dir = await game(['registry: 127.0.0.1:1/studio/host-only']);
    const r = await runCli(['push', '1.4.2'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('registry host with no repository');
    expect(r.stderr).toContain('error[layout.missing]');
  });
});
