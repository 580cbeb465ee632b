// `ecs` sizes the task from deploy.resources when --cpu and --memory are not given: the smallest Fargate size (CPU
// units and memory from Fargate's supported pairs) that holds the engine's CPU and memory, never below the defaults
// (1024 units, 2048 MiB). The old code kept the defaults and refused a game asking for more ("the engine's 1536 CPU
// units exceed the task's 1024") unless both flags were passed by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-ecs-size-');
  await writeTinyGame(dir, [
    'game: ecs-size',
    'start: [/opt/local/engine/run]',
    'registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-size',
    'deploy:',
    '  resources:',
    '    requests: {cpu: "1.5", memory: 3Gi}',
    '    limits: {cpu: "2", memory: 4500Mi}',
  ]);
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

async function task(args: string[]): Promise<{ cpu: string; memory: string; containerDefinitions: { name: string; cpu?: number; memory?: number }[] }> {
  const r = await runCli(['ecs', '--local', ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('ecs task size from deploy.resources', () => {
  it('Fargate: the smallest supported pair holding the engine (1536 units, 4500 MiB: 2048 units, 5120 MiB), with a note', async () => {
    const r = await runCli(['ecs', '--local'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as { cpu: string; memory: string };
    expect([t.cpu, t.memory]).toEqual(['2048', '5120']);
    expect(r.stderr).toContain('note: task size 2048 CPU units, 5120 MiB: the smallest Fargate size holding deploy.resources (engine 1536 CPU units, 4500 MiB); --cpu and --memory set it');
  });

  it('EC2: the engine\'s own figures (no Fargate pairs)', async () => {
    const t = await task(['--launch-type', 'ec2', '--network-mode', 'host']);
    expect([t.cpu, t.memory]).toEqual(['1536', '4500']);
  });

  it('flags given are taken as they are, and checked against the engine', async () => {
    const t = await task(['--cpu', '4096', '--memory', '8192']);
    expect([t.cpu, t.memory]).toEqual(['4096', '8192']);
    const small = await runCli(['ecs', '--local', '--cpu', '1024'], { cwd: dir });
    expect(small.code).not.toBe(0);
    expect(small.stderr).toContain("the engine's 1536 CPU units exceed the task's 1024");
  });
});
