/**
 * The demo's trajectory: the reference checkpoints shipped in models/trajectory/<series>/step-<N>/ (see
 * models/trajectory/README.md), audited with the demo's canary set; a checkpoint whose files are a model
 * the demo already audited (the final step is the shipped model) reuses that audit.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditProvider } from '../report/types.ts';
import type { TrajectorySeriesInput } from './series.ts';
import { trajectory, type TrajectoryOptions, type TrajectoryResult } from './trajectory.ts';

/** The reference series in the order the demo compares them (the unclipped baseline first). */
const SERIES_ORDER = ['baseline'];

/** Series folders under `modelsDir`/trajectory holding step-<N> checkpoints, baseline first; empty when none is shipped. */
async function demoSeries(modelsDir: string): Promise<TrajectorySeriesInput[]> {
  const root = join(modelsDir, 'trajectory');
  if (!existsSync(root)) return [];
  const series: TrajectorySeriesInput[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const checkpoints = (await readdir(join(root, entry.name)))
      .filter((name) => /^step-\d+$/.test(name) && existsSync(join(root, entry.name, name, 'model.onnx')))
      .map((name) => ({ step: Number(name.slice('step-'.length)), model: join(root, entry.name, name) }));
    if (checkpoints.length > 0) series.push({ name: entry.name, checkpoints });
  }
  const rank = (name: string) => (SERIES_ORDER.includes(name) ? SERIES_ORDER.indexOf(name) : SERIES_ORDER.length);
  return series.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : 1));
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
  featureCache?: TrajectoryOptions['featureCache'];
}): Promise<TrajectoryResult | null> {
  const series = await demoSeries(options.modelsDir);
  if (series.length === 0) return null;
  return trajectory({
    canaries: options.canaries,
    series,
    out: options.out,
    provider: options.provider,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    reuseAudits: options.reuseAudits,
    ...(options.featureCache ? { featureCache: options.featureCache } : {}),
    ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
