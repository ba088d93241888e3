/**
 * Clean-up on Ctrl-C (SIGINT) and SIGTERM: a run that writes large temporary files registers their removal here;
 * on the signal every registered clean-up runs (synchronously), then the signal is raised again with Node's default
 * action, so the process ends as interrupted (status 130 for SIGINT in a shell). Without this, an interrupted
 * inject left its hidden temporary outputs until the next run.
 */
import { rmdirSync, rmSync } from 'node:fs';

const cleanups = new Set<() => void>();
/** Run after every other clean-up: folders that are removed only once they are empty. */
const lastCleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const cleanup of [...cleanups, ...lastCleanups]) {
    try {
      cleanup();
    } catch {
      // One clean-up failing must not keep the others from running.
    }
  }
  cleanups.clear();
  lastCleanups.clear();
  for (const name of SIGNALS) process.removeListener(name, onSignal);
  process.kill(process.pid, signal);
}

/** Runs `cleanup` if the process is interrupted before the returned function is called. */
export function cleanUpOnSignal(cleanup: () => void, order: 'first' | 'last' = 'first'): () => void {
  if (cleanups.size + lastCleanups.size === 0) for (const name of SIGNALS) process.on(name, onSignal);
  const list = order === 'first' ? cleanups : lastCleanups;
  list.add(cleanup);
  return () => {
    list.delete(cleanup);
    if (cleanups.size + lastCleanups.size === 0) for (const name of SIGNALS) process.removeListener(name, onSignal);
  };
}

/** Removes the folders `dirs` (deepest first) where they are empty, after every other clean-up, if interrupted. */
export function removeEmptyDirsOnSignal(dirs: string[]): () => void {
  return cleanUpOnSignal(() => {
    for (const dir of dirs) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (something else is in it) or gone: keep it.
      }
    }
  }, 'last');
}

/** Removes `path` (a file or a folder) if the process is interrupted before the returned function is called. */
export function removeOnSignal(path: string): () => void {
  return cleanUpOnSignal(() => rmSync(path, { recursive: true, force: true }));
}
