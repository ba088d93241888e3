/**
 * Leftovers of interrupted runs: temporary siblings (`.NAME.tmp-PID-HEX`,
 * src/util/atomic.ts) whose process is gone. A rerun removes those of the
 * names it is about to write, and says so; those of live processes stay.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TEMPORARY = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Whether process `pid` is running (signal 0 only checks; EPERM: it runs as another user). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary siblings of `names` in `dir` left by processes that are gone; returns what it removed and whose it was. */
export async function removeDeadLeftovers(
  dir: string,
  names: ReadonlySet<string>,
): Promise<Array<{ path: string; pid: number }>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const removed: Array<{ path: string; pid: number }> = [];
  for (const entry of entries) {
    const match = TEMPORARY.exec(entry);
    if (!match || !names.has(match[1]!)) continue;
    const pid = Number(match[2]);
    if (isRunning(pid)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
    removed.push({ path: join(dir, entry), pid });
  }
  return removed;
}
