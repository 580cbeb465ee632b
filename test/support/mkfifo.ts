import { execFileSync } from 'node:child_process';

export async function mkfifo(file: string): Promise<void> {
  execFileSync('mkfifo', [file]);
}
