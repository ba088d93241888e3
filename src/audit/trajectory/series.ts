/**
 * Series of checkpoints: `NAME=GLOB` (steps read from the directory names, e.g. step-1200,
 * checkpoint-1200, epoch=2-step=1200), `NAME=STEP:DIR,STEP:DIR,...` (steps given), or objects.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { OptionError } from '../../util/options.ts';
import { RoteError } from '../../util/errors.ts';

export interface TrajectoryCheckpoint {
  step: number;
  /** Model directory. */
  model: string;
}

export interface TrajectorySeriesInput {
  name: string;
  checkpoints: TrajectoryCheckpoint[];
}

const SERIES_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const WILDCARD = /[*?[]/;

/** The step a checkpoint directory's name gives: the number after "step", else after "checkpoint", else its last number. */
export function stepFromName(dir: string): number | null {
  const name = basename(dir.replace(/[\\/]+$/, ''));
  const match = /step[-_=]?(\d+)/i.exec(name) ?? /checkpoint[-_]?(\d+)/i.exec(name) ?? /(\d+)(?!.*\d)/.exec(name);
  return match ? Number(match[1]) : null;
}

function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The directories a glob (`*`, `?`, `[...]` within path segments) matches, sorted; a path without wildcards as it is. */
export async function expandDirectories(pattern: string): Promise<string[]> {
  if (!WILDCARD.test(pattern)) return (await isDirectory(pattern)) ? [pattern] : [];
  const absolute = isAbsolute(pattern);
  const segments = pattern.split(/[\\/]+/).filter((segment, i) => segment !== '' || i === 0);
  let bases = [absolute ? sep : '.'];
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!WILDCARD.test(segment)) {
        next.push(join(base, segment));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue;
      }
      const matcher = segmentPattern(segment);
      for (const name of names.sort()) if (!name.startsWith('.') && matcher.test(name)) next.push(join(base, name));
    }
    bases = next;
  }
  const found: string[] = [];
  for (const path of bases) if (await isDirectory(path)) found.push(path);
  return found;
}

/**
 * One `--series` value: `NAME=GLOB` or `NAME=STEP:DIR,STEP:DIR` (items may mix: a glob's steps come
 * from the directory names). Errors name the value and what to write instead.
 */
export async function parseSeriesSpec(spec: string): Promise<TrajectorySeriesInput> {
  const equals = spec.indexOf('=');
  if (equals <= 0)
    throw new OptionError(
      (name) =>
        `${name('series')} "${spec}": write NAME=GLOB (e.g. baseline='ckpt/baseline/step-*') or NAME=STEP:DIR,STEP:DIR`,
    );
  const seriesName = spec.slice(0, equals);
  const checkpoints: TrajectoryCheckpoint[] = [];
  for (const item of spec
    .slice(equals + 1)
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const given = /^(\d+):(.+)$/.exec(item);
    if (given) {
      checkpoints.push({ step: Number(given[1]), model: given[2]! });
      continue;
    }
    const dirs = await expandDirectories(item);
    if (dirs.length === 0)
      throw new OptionError(
        (name) =>
          `${name('series')} ${seriesName}: "${item}" matches no directory (quote a glob so the shell leaves it to rote)`,
      );
    for (const dir of dirs) {
      const step = stepFromName(dir);
      if (step === null)
        throw new OptionError(
          (name) =>
            `${name('series')} ${seriesName}: cannot read a step from the directory name ${dir} (no number in it); give it as STEP:${dir}`,
        );
      checkpoints.push({ step, model: dir });
    }
  }
  return { name: seriesName, checkpoints };
}

/** Checks names, steps and directories of every series; returns each series sorted by step, model paths resolved. */
export function checkSeries(series: readonly TrajectorySeriesInput[]): TrajectorySeriesInput[] {
  if (series.length === 0)
    throw new OptionError((name) => `${name('series')} is required: at least one series of checkpoints`);
  const names = new Set<string>();
  return series.map((one) => {
    if (!SERIES_NAME.test(one.name))
      throw new OptionError(
        (name) =>
          `${name('series')} name "${one.name}": use letters, digits, '.', '_' and '-' (it names a folder of the output)`,
      );
    if (names.has(one.name)) throw new OptionError((name) => `${name('series')} ${one.name} is given twice`);
    names.add(one.name);
    if (one.checkpoints.length === 0)
      throw new OptionError((name) => `${name('series')} ${one.name} has no checkpoints`);
    const byStep = new Map<number, string>();
    for (const checkpoint of one.checkpoints) {
      if (!Number.isSafeInteger(checkpoint.step) || checkpoint.step < 0)
        throw new OptionError(
          (name) => `${name('series')} ${one.name}: step ${checkpoint.step} is not a non-negative integer`,
        );
      const earlier = byStep.get(checkpoint.step);
      if (earlier !== undefined)
        throw new RoteError(
          `series ${one.name}: step ${checkpoint.step} is given twice (${earlier} and ${checkpoint.model}); one checkpoint per step`,
        );
      byStep.set(checkpoint.step, checkpoint.model);
    }
    return {
      name: one.name,
      checkpoints: [...byStep.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([step, model]) => ({ step, model: resolve(model) })),
    };
  });
}
