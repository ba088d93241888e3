/**
 * The demo's trajectory: the reference checkpoints shipped in models/trajectory/<series>/step-<N>/ (see
 * models/trajectory/README.md), audited with the demo's canary set; a checkpoint whose files are a model
 * the demo already audited (the final step is the shipped model) reuses that audit.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditProvider } from '../types.ts';
import { trajectory, type TrajectoryOptions, type TrajectoryResult } from './trajectory.ts';

/** The reference series in the order the demo compares them (the unclipped baseline first). */
const SERIES_ORDER = ['baseline'];

/** Series folders under `modelsDir`/trajectory holding step-<N> checkpoints, baseline first; empty when none is shipped. */
async function demoSeries(modelsDir: string): Promise<string[]> {
  const root = join(modelsDir, 'trajectory');
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const steps = await readdir(join(root, entry.name));
    if (steps.some((step) => /^step-\d+$/.test(step) && existsSync(join(root, entry.name, step, 'model.onnx'))))
      names.push(entry.name);
  }
  const rank = (name: string) => (SERIES_ORDER.includes(name) ? SERIES_ORDER.indexOf(name) : SERIES_ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

/** Runs the trajectory of the shipped checkpoints into `out`, or returns null when models/ ships none. */
export async function runDemoTrajectory(options: {
  modelsDir: string;
  canaries: string;
  out: string;
  provider: AuditProvider;
  threads?: number;
  /** The demo's own audits of the shipped models, reused for checkpoints with the same files. */
  reuseAudits: string[];
  onCheckpoint?: TrajectoryOptions['onCheckpoint'];
  onProgress?: TrajectoryOptions['onProgress'];
}): Promise<TrajectoryResult | null> {
  const names = await demoSeries(options.modelsDir);
  if (names.length === 0) return null;
  return trajectory({
    canaries: options.canaries,
    series: names.map((name) => `${name}=${join(options.modelsDir, 'trajectory', name, 'step-*')}`),
    out: options.out,
    provider: options.provider,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    reuseAudits: options.reuseAudits,
    ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
