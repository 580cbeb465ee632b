// `ecs --cpu 4096` alone: the task memory stays at its default (2048 MiB), which no Fargate size of 4096 units
// allows. The error said "--memory: got 2048" of a flag the user never gave; it now says that 2048 is the default and
// what to pass. The help no longer shows a bare default of 1024 / 2048: without either flag the task is sized from
// deploy.resources.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useBuiltTinyGame } from './support/tiny-game.js';

const game = useBuiltTinyGame('gl-ecs-one-flag-', ['game: ecs-one', 'start: [/opt/local/engine/run]', 'registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-one']);

describe('ecs with one of --cpu and --memory', () => {
  it('names the other as its default when the pair does not fit Fargate', async () => {
    const cpu = await runCli(['ecs', '--local', '--cpu', '4096'], { cwd: game.dir });
    expect(cpu.code).toBe(2);
    expect(cpu.stderr).toBe(
      'error[deploy.option]: --memory: got 2048; expected for --cpu 4096 on Fargate: 8192-30720 MiB in steps of 1024 (--memory 2048 is its default: it was not given)\n' +
        'hint: pass --memory too, or neither --cpu nor --memory: the task is then sized from deploy.resources\n',
    );
    const memory = await runCli(['ecs', '--local', '--memory', '512'], { cwd: game.dir });
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain('(--cpu 1024 is its default: it was not given)\nhint: pass --cpu too, or neither --cpu nor --memory');
    // Both given: the flags' own error, nothing about defaults.
    const both = await runCli(['ecs', '--local', '--memory', '512', '--cpu', '1024'], { cwd: game.dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('error[deploy.option]: --memory: got 512; expected for --cpu 1024 on Fargate: 2048-8192 MiB in steps of 1024\n');
  });

  it('--help says the defaults give way to deploy.resources', async () => {
    const help = (await runCli(['ecs', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--cpu <units> task CPU units (1024 = one vCPU) (default: 1024, or with neither --cpu nor --memory the smallest size holding deploy.resources)');
    expect(help).toContain('--memory <mib> task memory in MiB (default: 2048, or sized with --cpu as above)');
  });
});
