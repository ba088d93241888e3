/**
 * rote trajectory: audits series of checkpoints with one canary set and shows, against step, when each
 * repetition group becomes memorized, how the scores, membership inference and exposure move, and how the
 * series compare at every step they share.
 */
export { trajectory, writeTrajectoryReport, type TrajectoryOptions, type TrajectoryResult } from './trajectory.ts';
export { TRAJECTORY_OPTION_SPECS } from './options.ts';
export { parseSeriesSpec, stepFromName, type TrajectoryCheckpoint, type TrajectorySeriesInput } from './series.ts';
export { trajectoryHtml, trajectoryMarkdown, trajectoryTerminalLines } from './render.ts';
export * from './types.ts';
