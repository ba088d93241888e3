/**
 * Leftovers of interrupted runs: temporary siblings (`.NAME.tmp-PID-HEX`,
 * src/util/atomic.ts) whose process is gone. A rerun removes those of the
 * names it is about to write, and says so; those of live processes stay.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deadTemporarySibling } from '../util/atomic.ts';

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
    const leftover = deadTemporarySibling(entry);
    if (!leftover || !names.has(leftover.target)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
    removed.push({ path: join(dir, entry), pid: leftover.pid });
  }
  return removed;
}
