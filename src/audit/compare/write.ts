/** Writing a comparison: comparison.json, .md and .html, as a folder of its own or into one the caller owns. */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { explainWriteFailure } from '../../util/errors.ts';
import { resolveOption } from '../../util/options.ts';
import { temporarySibling, writeFileAtomic } from '../../util/atomic.ts';
import { checkOutputFolder, moveIntoPlace, type OutputFolderKind } from '../../util/output-folder.ts';
import { refuseOutputsOnInputs } from '../../util/output-guard.ts';
import { COMPARE_OPTION_SPECS } from '../options.ts';
import { comparisonHtml, comparisonMarkdown } from '../render/index.ts';
import type { ComparisonReport } from '../report/types.ts';

/** The files of a comparison, the only names a folder written by `rote compare` holds. */
const COMPARISON_FILES = { json: 'comparison.json', markdown: 'comparison.md', html: 'comparison.html' } as const;

const COMPARISON_OUTPUT: OutputFolderKind = {
  command: 'rote compare',
  thing: 'comparison',
  entries: new Set(Object.values(COMPARISON_FILES)),
  missing: 'has no comparison.json written by rote',
  async isOurs(dir) {
    try {
      const value = JSON.parse(await readFile(join(dir, COMPARISON_FILES.json), 'utf8')) as { kind?: unknown };
      return value?.kind === 'rote-comparison-report';
    } catch {
      return false;
    }
  },
};

export interface WriteComparisonOptions {
  /** Replace a comparison rote compare wrote at `out` (default false); anything else there is refused. */
  force?: boolean;
}

/**
 * Writes comparison.json, .md and .html as the folder `out` (default COMPARE_OPTION_SPECS' `out`), built in a
 * temporary sibling and renamed into place. An existing non-empty `out` is refused unless `force` and it holds a
 * comparison rote wrote (src/util/output-folder.ts).
 */
export async function writeComparisonReport(
  report: ComparisonReport,
  out?: string,
  options: WriteComparisonOptions = {},
): Promise<{ json: string; markdown: string; html: string }> {
  const dir = resolveOption(COMPARE_OPTION_SPECS, 'out', out)!;
  const force = resolveOption(COMPARE_OPTION_SPECS, 'force', options.force)!;
  const target = resolve(dir);
  await refuseOutputsOnInputs(
    report.models.flatMap((m) => (m.reportPath ? [{ path: m.reportPath, what: 'the audit report' }] : [])),
    [{ path: target, key: 'out', kind: 'folder' }],
  );
  const replacing = await checkOutputFolder(target, force, COMPARISON_OUTPUT);
  await mkdir(dirname(target), { recursive: true });
  const temporary = temporarySibling(target);
  try {
    await mkdir(temporary);
    await writeComparisonFiles(report, temporary);
    await moveIntoPlace(temporary, target, replacing);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw await explainWriteFailure(error, dir, '--out');
  }
  return comparisonPaths(dir);
}

const comparisonPaths = (dir: string) => ({
  json: join(dir, COMPARISON_FILES.json),
  markdown: join(dir, COMPARISON_FILES.markdown),
  html: join(dir, COMPARISON_FILES.html),
});

/** Writes the three comparison files into `dir`, a folder the caller owns (the demo's output); each file atomically. */
export async function writeComparisonFiles(
  report: ComparisonReport,
  dir: string,
): Promise<{ json: string; markdown: string; html: string }> {
  const paths = comparisonPaths(dir);
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.markdown, comparisonMarkdown(report));
  await writeFileAtomic(paths.html, comparisonHtml(report));
  return paths;
}
