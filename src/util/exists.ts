import { stat } from 'node:fs/promises';

/** Whether anything is at `p` (a missing or unreadable path is "no"). */
export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
