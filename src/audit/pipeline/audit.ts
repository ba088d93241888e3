/**
 * audit(): check the canary set, transcribe every canary with the model,
 * journal rows as they finish (resumable), build and write the report.
 */
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { openCanarySet, unscorableText, verifyCanaryAudio } from '../../canary/index.ts';
import {
  type FeatureCache,
  describeProviderReport,
  loadModel,
  referenceFrameBudget,
  transcribeFiles,
  type FrameBudget,
  type ModelInfo,
} from '../../asr/index.ts';
import { explainWriteFailure, RoteError } from '../../util/errors.ts';
import { sha256Hex } from '../../util/hash.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { refuseOutputsOnInputs } from '../../util/output-guard.ts';
import { lockDirectory, LOCK_FILE, type DirectoryLock } from '../../util/lock.ts';
import { buildAuditReport, type TranscribedRow } from './build-report.ts';
import { JournalWriter, openJournal, type JournalHeader, JOURNAL_FORMAT } from './journal.ts';
import { auditHtml, auditMarkdown } from '../render/index.ts';
import { AUDIT_DEFAULTS } from '../defaults.ts';
import { resolveAuditSettings, type AuditSettingsInput } from '../options.ts';
import { validateReport } from '../report/schema.ts';
import type { AuditReport, CanarySetRecord, ModelRecord } from '../report/types.ts';

export { AUDIT_DEFAULTS };

export interface AuditOptions extends AuditSettingsInput {
  /** Canary-set directory (holds canary-set.json and audio/). */
  canaries: string;
  /** Model directory (any family src/asr detects). */
  model: string;
  /** Output directory for rows.jsonl and the reports; omitted: nothing is written and nothing resumes. */
  out?: string | null;
  /** Discard rows of an earlier run in `out` instead of resuming. */
  restart?: boolean;
  /** Called after each canary (done includes rows resumed from the journal). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Told, one line each, what the run chose or did on its own: `info` the provider that ran and why the others
   * did not; `warning` something to know (it took over the lock of a run that is gone).
   */
  onNotice?: (message: string, kind: 'info' | 'warning') => void;
  /** Features kept across audits of the same canaries (trajectory checkpoints, the demo's models): computed once per frontend. */
  featureCache?: FeatureCache;
}

/** Model files relative to the model directory, and their combined fingerprint. */
export function modelRecord(info: ModelInfo, dir: string): ModelRecord {
  const files = info.files
    // Relative to the model folder however either was written (models/x vs /abs/models/x), so a resumed audit
    // run from another working directory recognizes its own rows.
    .map((file) => ({ path: relative(resolve(dir), resolve(file.path)), sha256: file.sha256 }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    dir: resolve(dir),
    family: info.family,
    isCtc: info.isCtc,
    scoreKind: info.isCtc
      ? 'ctc'
      : info.decoder?.kind === 'encoder-decoder'
        ? 'decoder'
        : (info.decoder?.kind ?? 'transducer'),
    fingerprint: sha256Hex(files.map((file) => `${file.path} ${file.sha256}\n`).join('')),
    files,
  };
}

export async function audit(options: AuditOptions): Promise<AuditReport> {
  const { settings, epsilon, maxDurationSec } = resolveAuditSettings(options);
  if (options.out)
    await refuseOutputsOnInputs(
      [
        { path: options.canaries, what: 'the canary set', key: 'canaries', tree: true },
        { path: options.model, what: 'the model', key: 'model', tree: true },
      ],
      [{ path: options.out, key: 'out', kind: 'into' }],
      { force: false },
    );
  const opened = await openCanarySet(options.canaries);
  const set = opened.set;
  await verifyCanaryAudio(options.canaries, set);
  const canarySet: CanarySetRecord = {
    dir: opened.dir,
    setId: set.setId,
    fileSha256: opened.hash,
    canaries: set.canaries.length,
    repetitions: [...set.parameters.repetitions].sort((a, b) => a - b),
    holdout: set.canaries.filter((canary) => canary.repetitions === null).length,
    speed: set.parameters.speed,
    sampleRate: set.parameters.sampleRate,
    membership: set.parameters.membership ?? 'groups',
    origin: set.parameters.imported ? 'imported' : 'generated',
  };
  if (canarySet.holdout === 0)
    throw new RoteError(
      `${opened.path}: the set has no held-out canaries, so there is nothing to compare inserted ones against; generate a set with --holdout`,
    );
  const unscorable = set.canaries.findIndex((canary) => unscorableText(canary.text));
  if (unscorable >= 0)
    throw new RoteError(
      `${opened.path}: canaries[${unscorable}].text ${JSON.stringify(set.canaries[unscorable]!.text)} has nothing to score (empty after the audit's normalization: case folded, punctuation and symbols removed), so no CER exists for it; rote check-canaries counts it infeasible. Make the set again without it (import-canaries refuses such texts)`,
    );

  const model = await loadModel(options.model, {
    provider: settings.provider,
    ...(options.deviceId !== undefined ? { deviceId: options.deviceId } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.head ? { head: options.head } : {}),
    ...(set.parameters.language ? { language: set.parameters.language } : {}),
  });
  options.onNotice?.(`${model.info.family} model, ${describeProviderReport(model.provider)}`, 'info');
  try {
    const record = modelRecord(model.info, options.model);
    const out = options.out ?? null;
    const done = new Map<string, TranscribedRow>();
    let writer: JournalWriter | null = null;
    let lock: DirectoryLock | null = null;
    let createdOut = false;
    let createdJournal = false;
    try {
      if (out) {
        createdOut = (await mkdir(out, { recursive: true })) !== undefined;
        lock = await lockDirectory(out, `rote audit --model ${resolve(options.model)}`, (message) =>
          options.onNotice?.(message, 'warning'),
        );
        const header: JournalHeader = {
          kind: 'rote-audit-rows',
          format: JOURNAL_FORMAT,
          setId: set.setId,
          canarySetSha256: canarySet.fileSha256,
          modelFingerprint: record.fingerprint,
          transcription: { provider: settings.provider, batchFrames: settings.batchFrames },
        };
        const journal = await openJournal(join(out, 'rows.jsonl'), header, { restart: options.restart ?? false });
        createdJournal = journal.rows.length === 0;
        const ids = new Set(set.canaries.map((canary) => canary.id));
        for (const row of journal.rows) if (ids.has(row.id)) done.set(row.id, row);
        writer = await JournalWriter.open(join(out, 'rows.jsonl'));
      }
      try {
        const pending = set.canaries
          .filter((canary) => !done.has(canary.id))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((canary) => ({ id: canary.id, path: join(options.canaries, canary.audio), reference: canary.text }));
        const total = set.canaries.length;
        options.onProgress?.(done.size, total);
        if (pending.length > 0) {
          const transcribeOptions = {
            ...(settings.batchFrames !== null ? { batchFrames: settings.batchFrames } : {}),
            ...(maxDurationSec !== undefined ? { maxDurationSec } : {}),
            ...(options.featureCache ? { featureCache: options.featureCache } : {}),
          };
          for await (const result of transcribeFiles(model, pending, transcribeOptions)) {
            const row: TranscribedRow = {
              id: result.id,
              hypothesis: result.hypothesis,
              durationSec: result.durationSec,
              frames: result.frames,
              referenceScore: result.referenceScore,
              notes: result.notes,
              provider: model.provider.used,
            };
            await writer?.append(row);
            done.set(row.id, row);
            options.onProgress?.(done.size, total);
          }
        }
      } finally {
        await writer?.close();
      }
      // Which canaries the model can emit at all (from the feature frames each row was given).
      const frameBudgets = new Map<string, FrameBudget>();
      for (const canary of set.canaries) {
        const row = done.get(canary.id);
        if (row) frameBudgets.set(canary.id, referenceFrameBudget(model, canary.text, row.frames));
      }
      const report = buildAuditReport({
        set,
        canarySet,
        model: record,
        rows: [...done.values()],
        settings,
        frameBudgets,
        epsilon,
      });
      validateReport(report, 'the report being written');
      if (out) await writeAuditReport(report, out);
      return report;
    } catch (error) {
      // A run that failed before its first row leaves nothing behind: no header-only journal, no empty folder it made.
      if (out && lock && createdJournal && done.size === 0) await rm(join(out, 'rows.jsonl'), { force: true });
      await lock?.release();
      lock = null;
      if (out && createdOut) await removeIfEmpty(out);
      throw out ? await explainWriteFailure(error, out, '--out') : error;
    } finally {
      await lock?.release();
    }
  } finally {
    await model.close();
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).filter((name) => name !== LOCK_FILE).length === 0) await rmdir(dir);
  } catch {
    // Not empty or already gone: leave it.
  }
}

/** Writes report.json, report.md and report.html into `dir`, each atomically. */
export async function writeAuditReport(
  report: AuditReport,
  dir: string,
): Promise<{ json: string; markdown: string; html: string }> {
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.markdown, auditMarkdown(report));
  await writeFileAtomic(paths.html, auditHtml(report));
  return paths;
}
