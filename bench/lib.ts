// Shared bench helpers: child-process measurements (so RSS is the measured run's own), medians, report writing.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);
export const OUT_DIR = path.join(BENCH_DIR, 'out');

export interface Measured<T = unknown> {
  ms: number;
  cpuMs: number;
  /** CPU of the child processes the script waited for (the `zstd` processes of a zstd build), beside `cpuMs`. */
  childCpuMs?: number;
  maxRssMiB: number;
  result: T;
}

/** Runs `tsx <script> ...args` in a fresh process; the script prints one JSON line `{result}` on stdout. */
export async function measure<T>(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured<T>> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${code}`);
  const line = out.trim().split('\n').pop() ?? '{}';
  const parsed = JSON.parse(line) as { result: T; cpuMs: number; childCpuMs?: number; maxRssKiB: number; innerMs: number };
  return { ms: parsed.innerMs ?? ms, cpuMs: parsed.cpuMs, childCpuMs: parsed.childCpuMs, maxRssMiB: parsed.maxRssKiB / 1024, result: parsed.result };
}

/** For worker scripts: time `fn`, then print its result with CPU time and peak RSS of this process. */
export async function report<T>(fn: () => Promise<T>): Promise<void> {
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const result = await fn();
  const innerMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const u = process.cpuUsage(u0);
  process.stdout.write(
    `${JSON.stringify({ result, innerMs, cpuMs: (u.user + u.system) / 1000, childCpuMs: await childCpuMs(), maxRssKiB: process.resourceUsage().maxRSS })}\n`,
  );
}

/** User + system CPU of this process's waited-for children (Linux: /proc/self/stat cutime + cstime), else undefined. */
async function childCpuMs(): Promise<number | undefined> {
  const stat = await readFile('/proc/self/stat', 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis): cutime, cstime are 16 and 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[13]) + Number(f[14]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in bench/README.md. */
export async function writeReportSection(name: string, markdown: string, file = path.join(BENCH_DIR, 'README.md')): Promise<void> {
  const text = await readFile(file, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const section = `${begin}\n${markdown.trim()}\n${end}`;
  const next = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}

export function machine(): string {
  return `${process.platform} ${process.arch}, Node ${process.version}`;
}
