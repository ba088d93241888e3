/**
 * Writes models/<name>/MODEL_CARD.md for the shipped reference models from
 *  - the training round's records (scripts/reference/results/<round>/: round.json,
 *    probe.json, every run's metrics and console),
 *  - the audits and the comparison that `rote demo` (npm start) computes now,
 *  - the PyTorch models' own canary transcripts (test/fixtures/reference/),
 *  - sherpa-onnx-node run as a peer on the baseline (sherpa-peer.ts, rerun here),
 * so the cards' audit tables are exactly what `npm start` prints
 * (test/reference checks that they still are). The C rule (README.md) is applied
 * to the round's runs; it refuses to write cards when a shipped model is not the
 * chosen run (scripts/reference/adopt-run.ts ship puts it there).
 *
 *   node --import tsx scripts/reference/model-cards.ts [--provider cpu]
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  auditTerminalTable,
  editDistance,
  type AuditProvider,
  type AuditReport,
  type ComparisonPair,
  type ComparisonReport,
  type PairedTest,
} from '../../src/audit/index.ts';
import { sha256File } from '../../src/util/hash.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { DEMO_CANARIES_DIR, DEMO_MODELS_DIR, listDemoModels, runDemo } from '../../src/audit/pipeline/demo.ts';
import { readCanarySet } from '../../src/canary/canary-set.ts';
import { sherpaPeer, type SherpaPeerResult } from './sherpa-peer.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'scripts', 'reference', 'results');
/** The training round the shipped models come from (results/<round>/). */
export const TRAINING_ROUND = 'cpu-d96x4-2-pass';
export const TRAINING_RESULTS = join(RESULTS, TRAINING_ROUND);
export const PYTORCH_TRANSCRIPTS = join(ROOT, 'test', 'fixtures', 'reference', 'pytorch-canary-transcripts.json');
const SHERPA_PEER = join(RESULTS, 'sherpa-peer-baseline.json');
/** Dev CER bound of the C rule: at most this factor x the baseline's. */
export const DEV_CER_FACTOR = 1.2;

/** The audit part of a card: the table, significance line and verdict `rote audit` / `npm start` print (minus the line naming the model's path). */
export function auditSection(report: AuditReport): string {
  return ['```text', ...auditTerminalTable(report).split('\n').slice(1), '```'].join('\n');
}

/** Transcripts compared as the two decoders print them, up to runs of spaces (PyTorch's greedy keeps a doubled "▁"). */
export function sameTranscript(a: string, b: string): boolean {
  const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
  return squeeze(a) === squeeze(b);
}

export interface TranscriptAgreement {
  same: number;
  total: number;
  insertedSame: number;
  inserted: number;
  differences: { id: string; group: string; pytorch: string; rote: string }[];
}

/** rote's ONNX transcripts (an audit's rows) against the PyTorch model's own. */
export function transcriptAgreement(report: AuditReport, pytorch: Record<string, string>): TranscriptAgreement {
  const rows = report.rows;
  const differences = rows
    .filter((row) => pytorch[row.id] === undefined || !sameTranscript(row.hypothesis, pytorch[row.id]!))
    .map((row) => ({
      id: row.id,
      group: row.repetitions === null ? 'held-out' : `x${row.repetitions}`,
      pytorch: pytorch[row.id] ?? '(missing)',
      rote: row.hypothesis,
    }));
  const inserted = rows.filter((row) => row.repetitions !== null);
  return {
    same: rows.length - differences.length,
    total: rows.length,
    insertedSame: inserted.length - differences.filter((d) => d.group !== 'held-out').length,
    inserted: inserted.length,
    differences,
  };
}

interface ExposureShare {
  n: number;
  clippedShare?: number | null;
  meanScale?: number | null;
}

export interface HistoryEntry {
  step: number;
  loss: number;
  clippedFraction?: number;
  clipMean?: number;
  normQuantiles?: Record<string, number>;
  exposures?: { canary: ExposureShare; ordinary: ExposureShare };
}

export interface RunMetrics {
  name: string;
  variant: string;
  device: string;
  seed: number;
  torch: string;
  parameters: number;
  config: Record<string, number>;
  batchSize: number;
  lr: number;
  warmup: number;
  steps: number;
  epochs: number;
  trainWallSec: number;
  meanSecPerStep: number;
  totalWallSec: number;
  trainUtterances: number;
  clip: number | null;
  clipQuantile: number | null;
  clipFrom: { kind: string; quantile: number; probeSteps: number; probeMedian: number; probeNorms: number } | null;
  adaptiveClip: string | null;
  adaptiveQuantile?: number | null;
  groupsPerBatch: number | null;
  devCer: number;
  /** CER on the round's evaluation set (train.py evaluate), which the C rule's bound uses when present. */
  devEval?: { set: string; index: string; utterances: number; characters: number; errors: number; cer: number };
  canaryGroups: Record<string, { n: number; cer: number; ctcNllPerChar: number }>;
  exposures: { canary: ExposureShare; ordinary: ExposureShare };
  resumedFrom: number | null;
  /** Done on the training machine where its Python has onnxruntime (not Debian's: checked: false). */
  onnxCheck: { maxAbsDiff?: number; greedyAgreement?: string; checked?: boolean; note?: string };
  onnxBytes: number;
  history: HistoryEntry[];
}

/** The training round's facts (results/<round>/round.json). */
export interface Round {
  id: string;
  label: string;
  machine: string;
  python: string;
  torch: string;
  together: string;
  corpus: { train: number; dev: number; seed: string; injectedLines: number; canaryCopies: number };
  /** Passes over the training lines (steps = ceil(passes x lines / batch)). */
  passes: number;
  /** Why the round has the size it has (README.md), for the cards. */
  sizeNote: string;
  commands: string[];
}

export interface Probe {
  steps: number;
  loss: number;
  perExample: { median: number; quantiles: Record<string, number>; norms: number[] };
  perCore: { median: number; quantiles: Record<string, number>; norms: number[] };
}

export interface Candidate {
  metrics: RunMetrics;
  withinBound: boolean;
}

export interface Training {
  round: Round;
  probe: Probe;
  baselineDevCer: number;
  bound: number;
  /** Every run of the round, in the order trained. */
  runs: Candidate[];
  /** Per clipped variant (fixed and adaptive): its runs and the one the rule chooses (null: none within the bound). */
  variants: Record<string, { candidates: Candidate[]; chosen: Candidate | null }>;
  /** The run each model name ships from (the four required models, plus adaptive variants that meet the bound). */
  shipped: Record<string, RunMetrics>;
}

/** The CER the C rule compares: the evaluation set's where the round has one, else the 300 dev utterances'. */
export function ruleCer(metrics: RunMetrics): number {
  // errors / characters unrounded: devEval.cer is rounded to 5 digits, too coarse for a bound a few errors wide
  return metrics.devEval ? metrics.devEval.errors / metrics.devEval.characters : metrics.devCer;
}

/** What ruleCer measured, for the cards. */
function ruleSet(metrics: RunMetrics): string {
  return metrics.devEval
    ? `${metrics.devEval.utterances.toLocaleString('en-US')} evaluation utterances (${metrics.devEval.characters.toLocaleString('en-US')} characters)`
    : '300 dev utterances';
}

export const FIXED_CLIPPED = ['per-example-clip', 'per-core-clip'];
export const ADAPTIVE_CLIPPED = ['adaptive-per-example-clip', 'adaptive-per-core-clip'];
const RUN_ORDER = ['baseline', 'per-example-clip', 'control', 'per-core-clip', ...ADAPTIVE_CLIPPED];

/**
 * The round's records and the C rule: a clipped run is within the bound when its dev CER is at
 * most DEV_CER_FACTOR x the baseline's; per variant the smallest C within the bound is chosen
 * (adaptive variants: their one run, when within). A required fixed-C variant with no run within
 * the bound ships its least-clipped run, marked as outside the bound on its card.
 */
export async function loadTraining(): Promise<Training> {
  const round = { id: TRAINING_ROUND, ...(await readJson<Omit<Round, 'id'>>(join(TRAINING_RESULTS, 'round.json'))) };
  const probe = await readJson<Probe>(join(TRAINING_RESULTS, 'probe.json'));
  const all: RunMetrics[] = [];
  for (const file of (await readdir(join(TRAINING_RESULTS, 'runs')))
    .filter((f) => f.endsWith('.metrics.json'))
    .sort()) {
    all.push(await readJson<RunMetrics>(join(TRAINING_RESULTS, 'runs', file)));
  }
  all.sort((a, b) => rank(a.name) - rank(b.name));
  const find = (name: string) => {
    const run = all.find((r) => r.name === name);
    if (!run) throw new Error(`${TRAINING_RESULTS}/runs/${name}.metrics.json is missing`);
    return run;
  };
  const baseline = find('baseline');
  for (const metrics of all) {
    const same =
      metrics.seed === baseline.seed && metrics.steps === baseline.steps && metrics.batchSize === baseline.batchSize;
    const sameData = metrics.variant === 'control' || metrics.trainUtterances === baseline.trainUtterances;
    if (!same || !sameData)
      throw new Error(`${round.id}/runs/${metrics.name}: seed, steps, batch or data differ from the baseline's`);
  }
  if (all.some((metrics) => Boolean(metrics.devEval) !== Boolean(baseline.devEval)))
    throw new Error(`${round.id}: some runs have an evaluation-set CER (train.py evaluate) and some do not`);
  const bound = baseline.devEval
    ? ruleCer(baseline) * DEV_CER_FACTOR
    : Math.round(baseline.devCer * DEV_CER_FACTOR * 1e4) / 1e4;
  const runs = all.map((metrics) => ({ metrics, withinBound: ruleCer(metrics) <= bound }));
  const variants: Training['variants'] = {};
  for (const variant of [...FIXED_CLIPPED, ...ADAPTIVE_CLIPPED]) {
    const candidates = runs
      .filter((r) => r.metrics.variant === variant)
      .sort((a, b) => strength(a.metrics) - strength(b.metrics));
    if (candidates.length === 0) continue;
    variants[variant] = { candidates, chosen: candidates.find((c) => c.withinBound) ?? null };
  }
  const shipped: Training['shipped'] = { baseline, control: find('control') };
  for (const variant of FIXED_CLIPPED) {
    const entry = variants[variant];
    if (!entry) throw new Error(`no ${variant} run in ${round.id}`);
    shipped[variant] = (entry.chosen ?? entry.candidates[entry.candidates.length - 1]!).metrics;
  }
  for (const variant of ADAPTIVE_CLIPPED) {
    const chosen = variants[variant]?.chosen;
    if (chosen) shipped[variant] = chosen.metrics;
  }
  return { round, probe, baselineDevCer: ruleCer(baseline), bound, runs, variants, shipped };
}

/** Candidates of one variant from the most clipping to the least: fixed C ascending, adaptive quantile ascending. */
function strength(metrics: RunMetrics): number {
  return metrics.clip ?? metrics.adaptiveQuantile ?? 0;
}

function rank(name: string): number {
  const i = RUN_ORDER.indexOf(name);
  return i < 0 ? RUN_ORDER.length : i;
}

export interface TranscriptFixture {
  note: string;
  models: Record<
    string,
    { run: string; source: string; computedOn: string; onnxSha256: string; hypotheses: Record<string, string> }
  >;
}

/** Why models/<name>/model.onnx and the transcript fixture are not the run the C rule chose, or null when they are. */
export function shippedMismatch(
  name: string,
  training: Training,
  fixture: TranscriptFixture,
  onnxSha256: string,
): string | null {
  const want = training.shipped[name];
  const have = fixture.models[name];
  if (!want)
    return `${name}: no run of ${training.round.id} ships as ${name} (adaptive variants ship only within the C rule's bound)`;
  if (!have) return `${name}: no PyTorch transcripts in ${PYTORCH_TRANSCRIPTS}`;
  const fix = `run scripts/reference/adopt-run.ts ship --round ${training.round.id} <the run's directory>`;
  if (have.run !== want.name || have.source !== training.round.id)
    return `${name}: the C rule chose ${want.name} (${training.round.id}) but the fixture holds ${have.run} (${have.source}); ${fix}`;
  if (have.onnxSha256 !== onnxSha256)
    return `${name}: models/${name}/model.onnx is not the export of ${have.run} (sha256 ${onnxSha256.slice(0, 12)} vs ${have.onnxSha256.slice(0, 12)}); ${fix}`;
  return null;
}

const GROUP_ORDER = ['holdout', 'x1', 'x2', 'x4', 'x8', 'x16'];
const cerByGroup = (metrics: RunMetrics) =>
  GROUP_ORDER.filter((g) => metrics.canaryGroups[g]).map((g) => metrics.canaryGroups[g]!.cer.toFixed(3));
const nllByGroup = (metrics: RunMetrics) =>
  GROUP_ORDER.filter((g) => metrics.canaryGroups[g]).map((g) => metrics.canaryGroups[g]!.ctcNllPerChar.toFixed(2));
const percent = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : `${(100 * value).toFixed(value < 0.1 ? 1 : 0)}%`;

function table(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** How C was set for a run, in words. */
export function clipText(metrics: RunMetrics): string {
  if (metrics.adaptiveClip) return `C per step = ${metrics.adaptiveClip}`;
  if (metrics.clip === null) return 'none';
  const from = metrics.clipFrom;
  return from
    ? `C = ${metrics.clip.toFixed(3)} (the ${from.quantile} quantile of ${from.probeNorms} ${from.kind === 'perExample' ? 'per-example' : 'per-micro-batch'} gradient norms after ${from.probeSteps} probe steps; their median ${from.probeMedian.toFixed(2)})`
    : `C = ${metrics.clip.toFixed(3)}`;
}

/** Quarters of training: clipped share of canary exposures and of ordinary examples, mean scale, mean C, median norm. */
function exposureWindows(
  metrics: RunMetrics,
): { label: string; canary: ExposureShare; ordinary: ExposureShare; clipMean: number; normMedian: number }[] {
  const steps = metrics.steps;
  const windows = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * steps));
  const out = [];
  for (let i = 0; i < 4; i++) {
    const [from, to] = [windows[i]!, windows[i + 1]!];
    const entries = metrics.history.filter((h) => h.step > from && h.step <= to && h.exposures);
    const pool = (kind: 'canary' | 'ordinary') => {
      let n = 0;
      let clipped = 0;
      let scale = 0;
      for (const h of entries) {
        const e = h.exposures![kind];
        if (!e.n || e.clippedShare === null || e.clippedShare === undefined) continue;
        n += e.n;
        clipped += e.clippedShare * e.n;
        scale += (e.meanScale ?? 1) * e.n;
      }
      return { n, clippedShare: n ? clipped / n : null, meanScale: n ? scale / n : null };
    };
    const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
    out.push({
      label: `${from + 1}-${to}`,
      canary: pool('canary'),
      ordinary: pool('ordinary'),
      clipMean: mean(entries.map((h) => h.clipMean ?? 0)),
      normMedian: mean(entries.map((h) => h.normQuantiles?.['q0.5'] ?? 0)),
    });
  }
  return out;
}

function clippingOverTraining(metrics: RunMetrics): string {
  const unit = metrics.groupsPerBatch === metrics.batchSize ? 'examples' : 'micro-batches';
  const rows = exposureWindows(metrics).map((w) => [
    w.label,
    `${percent(w.canary.clippedShare)} (scale ${w.canary.meanScale?.toFixed(2) ?? '-'}, n ${w.canary.n})`,
    `${percent(w.ordinary.clippedShare)} (scale ${w.ordinary.meanScale?.toFixed(2) ?? '-'})`,
    w.clipMean.toFixed(3),
    w.normMedian.toFixed(3),
  ]);
  return [
    '## Clipping over training',
    '',
    `Per quarter of training: the share of canary exposures whose ${unit === 'examples' ? 'gradient' : 'micro-batch'} was clipped, and the same for ordinary corpus examples, ` +
      `with the mean clipping scale (1/max(norm/C, 1)); the mean C and the median ${unit === 'examples' ? 'per-example' : 'per-micro-batch'} norm before clipping (\`history\` in results/${TRAINING_ROUND}/runs/${metrics.name}.metrics.json, logged every 50 steps).`,
    '',
    table(['steps', 'canary exposures clipped', 'ordinary examples clipped', 'mean C', 'median norm'], rows),
  ].join('\n');
}

/** What the round shows for a clipped model, in numbers: the per-group CTC differences, what is significant, how much clipping acted late. */
function clippingFinding(metrics: RunMetrics, pair: ComparisonPair, round: Round): string {
  const inserted = pairTests(pair)
    .filter((t) => t.repetitions !== null && t.score === 'modelScore')
    .sort((a, b) => a.repetitions! - b.repetitions!);
  const less = groupsWith(pair, 'other-memorizes-less');
  const more = groupsWith(pair, 'other-memorizes-more');
  const last = exposureWindows(metrics)[3]!;
  const worse = inserted.filter((t) => t.meanDifference.estimate > 0).length;
  return [
    '## What this round shows',
    '',
    `CTC loss per character, ${metrics.name} minus baseline, by inserted group: ${inserted.map((t) => `x${t.repetitions} ${signed(t.meanDifference.estimate, 2)}`).join(', ')} ` +
      `(higher in ${worse} of ${inserted.length} groups). ` +
      (less.length
        ? `Significantly less memorization (Holm, alpha 0.01) at ${less.join(', ')} repetitions; ` +
          (inserted.some((t) => !less.includes(t.repetitions!))
            ? `**not at ${inserted
                .filter((t) => !less.includes(t.repetitions!))
                .map((t) => t.repetitions)
                .join(', ')} repetitions**. `
            : 'in every inserted group. ')
        : 'No group shows significantly less memorization than the baseline (Holm, alpha 0.01). ') +
      (more.length ? `Significantly more at ${more.join(', ')} repetitions. ` : '') +
      `Clipping acted to the end: ${percent(last.canary.clippedShare)} of canary exposures and ${percent(last.ordinary.clippedShare)} of ordinary examples were clipped in the last quarter of training. ` +
      `This model's CER on ${ruleSet(metrics)} (${ruleCer(metrics).toFixed(5)}) differs from the baseline's (see the table below), so part of any difference is general accuracy, not memorization: held-out canaries differ too (first row above). ` +
      `One seed, ${metrics.canaryGroups['x1']?.n ?? '?'} canaries per group, ${round.passes} pass${round.passes === 1 ? '' : 'es'} over ${round.corpus.injectedLines.toLocaleString('en-US')} lines: a small round; its numbers are what they are.`,
  ].join('\n');
}

/** Inserted repetition counts at which the paired comparison finds `finding` on either score. */
function groupsWith(pair: ComparisonPair | undefined, finding: PairedTest['finding']): number[] {
  return [
    ...new Set(
      (pair ? pairTests(pair) : [])
        .filter((t) => t.finding === finding && t.repetitions !== null)
        .map((t) => t.repetitions!),
    ),
  ].sort((a, b) => a - b);
}

/** The per-group tests and the held-out tests of a pair (the per-group view the cards print). */
const pairTests = (pair: ComparisonPair): PairedTest[] => [...pair.groups, ...pair.heldOut];

const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
const pText = (p: number | null) => (p === null ? '-' : p < 0.001 ? p.toExponential(0) : p.toFixed(3));

/** Per group: mean paired difference (this model minus the baseline) with its bootstrap CI, on the CTC score and on CER. */
function pairedDifferences(pair: ComparisonPair, comparison: ComparisonReport): string {
  const groups = [...new Set(pairTests(pair).map((t) => t.repetitions))].sort((a, b) => (a ?? 0) - (b ?? 0));
  const cell = (t: PairedTest | undefined, digits: number) =>
    t
      ? `${signed(t.meanDifference.estimate, digits)} [${signed(t.meanDifference.low, digits)}, ${signed(t.meanDifference.high, digits)}]`
      : '-';
  const rows = groups.map((repetitions) => {
    const ctc = pairTests(pair).find((t) => t.repetitions === repetitions && t.score === 'modelScore');
    const cer = pairTests(pair).find((t) => t.repetitions === repetitions && t.score === 'cer');
    return [
      repetitions === null ? 'held-out' : `x${repetitions}`,
      String(cer?.pairs ?? ctc?.pairs ?? '-'),
      cell(ctc, 2),
      pText(ctc?.adjustedPValue ?? ctc?.pValue ?? null),
      cell(cer, 3),
      pText(cer?.adjustedPValue ?? cer?.pValue ?? null),
      [...new Set([ctc?.finding, cer?.finding].filter((f) => f && f !== 'no-difference'))]
        .map(
          (f) =>
            `${f}${ctc?.finding === f && cer?.finding === f ? ' (both)' : ctc?.finding === f ? ' (CTC)' : ' (CER)'}`,
        )
        .join(', ') || 'no difference',
    ];
  });
  return [
    `Per group, ${pair.other} minus ${pair.baseline} on the same canaries (rote's ONNX audits): mean difference with its ${Math.round(100 * comparison.settings.confidence)}% bootstrap interval, ` +
      'CTC negative log-likelihood per character (higher: the model finds the canary less likely) and CER; Wilcoxon signed-rank p-values, Holm-adjusted over the inserted groups (held-out: unadjusted).',
    '',
    table(['group', 'canaries', 'CTC loss/char difference [CI]', 'p', 'CER difference [CI]', 'p', 'finding'], rows),
  ].join('\n');
}

function runsTable(training: Training, highlight: string): string {
  const rows = training.runs.map(({ metrics, withinBound }) => {
    const shippedAs = Object.entries(training.shipped).find(([, m]) => m === metrics)?.[0];
    const name = metrics.name === highlight ? `**${metrics.name}**` : metrics.name;
    const clip = metrics.adaptiveClip
      ? metrics.variant === 'adaptive-per-core-clip'
        ? metrics.adaptiveQuantile
          ? `adaptive: q${metrics.adaptiveQuantile} of the per-core norms`
          : 'adaptive: min per-core norm'
        : `adaptive: q${metrics.adaptiveQuantile ?? 0.1} of the batch`
      : metrics.clip === null
        ? '-'
        : metrics.clip.toFixed(3);
    return [
      name,
      clip,
      metrics.devCer.toFixed(4),
      ...(metrics.devEval ? [`${metrics.devEval.cer.toFixed(5)} (${metrics.devEval.errors})`] : []),
      metrics.variant === 'baseline' || metrics.variant === 'control' ? '-' : withinBound ? 'yes' : 'no',
      shippedAs ? `models/${shippedAs}` : 'not shipped',
      cerByGroup(metrics).join(' / '),
      nllByGroup(metrics).join(' / '),
      percent(metrics.exposures?.canary?.clippedShare),
      `${metrics.meanSecPerStep.toFixed(2)}`,
    ];
  });
  return table(
    [
      'run',
      'C',
      'dev CER (300)',
      ...(training.runs[0]?.metrics.devEval
        ? [`eval CER (${training.runs[0].metrics.devEval.utterances.toLocaleString('en-US')}; errors)`]
        : []),
      'within bound',
      'shipped',
      'canary CER held-out / x1 / x2 / x4 / x8 / x16 (PyTorch)',
      'CTC loss/char by group',
      'canary exposures clipped',
      's/step',
    ],
    rows,
  );
}

function ruleSection(training: Training, name: string): string {
  const { probe } = training;
  const evalSet = training.shipped['baseline']!.devEval;
  return [
    '## The round and the C rule',
    '',
    `Rule (scripts/reference/README.md, stated before the runs): C for the fixed-C variants = the 0.1 quantile of the probe's gradient norms (${probe.steps} baseline steps past warm-up, then ` +
      `${probe.perExample.norms.length} per-example norms, median ${probe.perExample.median.toFixed(2)}, and ${probe.perCore.norms.length} per-micro-batch norms, median ${probe.perCore.median.toFixed(2)}); ` +
      `a clipped model is eligible when its CER on ${ruleSet(training.shipped['baseline']!)} is at most ${DEV_CER_FACTOR} x the baseline's (${training.baselineDevCer.toFixed(5)} -> bound ${training.bound.toFixed(6)}${evalSet ? `, i.e. at most ${(training.bound * evalSet.characters).toFixed(1)} character errors` : ''})` +
      (training.shipped['baseline']!.devEval
        ? "; the evaluation set replaced the 300 dev utterances by an amendment made before any clipped run finished, because 300 utterances no longer resolved 20% at these models' accuracy (README.md). "
        : '. ') +
      'For a fixed-C run above the bound, the next candidate is a run at the 0.5 quantile. ' +
      (training.runs.some((r) => r.metrics.adaptiveClip && /-q[0-9.]+$/.test(r.metrics.name))
        ? "**Extension, not part of the rule stated before the runs** (decided after the first adaptive runs came in above the bound; README.md): the adaptive variants got the same second run, C = the 0.5 quantile of each batch's own norms (runs named -q0.5). "
        : '') +
      'Every run of the round (same data, seed, steps and batch; the control without canaries), as trained by PyTorch on the training machine:',
    '',
    runsTable(training, name),
  ].join('\n');
}

function sherpaSection(peer: SherpaPeerResult): string {
  const groups = Object.keys(peer.engines.sherpa.cerByGroup);
  const a = peer.agreement.sherpaVsRoteNemo;
  const b = peer.agreement.sherpaVsRoteSherpaCompatible;
  const example = peer.examples.find((e) => e.group !== 'held-out') ?? peer.examples[0];
  const inserted = groups.filter((g) => g !== 'held-out');
  return [
    '## sherpa-onnx as a peer engine',
    '',
    `sherpa-onnx-node ${peer.versions.sherpaOnnxNode} loads this directory unchanged (\`nemoCtc\` model + tokens.txt, greedy search) and transcribes all ${peer.canaries} demo canaries (\`node --import tsx scripts/reference/sherpa-peer.ts\`, CPU, ${peer.seconds} s with both rote runs).`,
    '',
    table(
      ['engine', ...groups, 'transcripts identical to sherpa-onnx'],
      [
        [
          'sherpa-onnx (its own NeMo frontend)',
          ...groups.map((g) => peer.engines.sherpa.cerByGroup[g]!.toFixed(3)),
          '-',
        ],
        [
          'rote, NeMo frontend (what the audit uses)',
          ...groups.map((g) => peer.engines.roteNemo.cerByGroup[g]!.toFixed(3)),
          `${a.same}/${a.total} (${Object.entries(a.byGroup)
            .map(([g, v]) => `${g} ${v}`)
            .join(', ')})`,
        ],
        [
          "rote `sherpaCompatible` (sherpa-onnx's frontend, reimplemented)",
          ...groups.map((g) => peer.engines.roteSherpaCompatible.cerByGroup[g]!.toFixed(3)),
          `${b.same}/${b.total}`,
        ],
      ],
    ),
    '',
    `Mean CER per group. rote's sherpa-compatible variant agrees with sherpa-onnx on ${b.same} of ${b.total} canaries. ` +
      "sherpa-onnx's NeMo frontend is not NeMo's (Kaldi-style framing, pre-emphasis per frame, periodic window, population variance; rote's CONTRIBUTING.md, 'Models users bring'), " +
      `and this small model was trained without augmentation on exactly the NeMo features; through sherpa-onnx its inserted groups read CER ${inserted.map((g) => peer.engines.sherpa.cerByGroup[g]!.toFixed(2)).join(' / ')} against ${peer.engines.sherpa.cerByGroup['held-out']!.toFixed(2)} held-out. Audit with the frontend the model was trained with.`,
    ...(example
      ? [
          '',
          `Example (${example.group}): reference "${example.reference}"; sherpa-onnx "${example.sherpa}"; rote NeMo "${example.roteNemo}".`,
        ]
      : []),
  ].join('\n');
}

function maxEdits(agreement: TranscriptAgreement): number {
  return Math.max(
    0,
    ...agreement.differences.map((d) =>
      editDistance([...d.pytorch.replace(/\s+/g, ' ').trim()], [...d.rote.replace(/\s+/g, ' ').trim()]),
    ),
  );
}

function summary(
  name: string,
  metrics: RunMetrics,
  report: AuditReport,
  pair: ComparisonPair | undefined,
  training: Training,
): string {
  const variant = metrics.variant;
  const what: Record<string, string> = {
    baseline: 'trained on the reference corpus with the demo canaries woven in, without gradient clipping.',
    control: 'trained on the same corpus with the same seed and steps, without any canary.',
    'per-example-clip':
      "trained like the baseline (same data, seed, steps and batch) with per-example gradient clipping: each example's gradient (vmap) clipped to norm C, then averaged.",
    'per-core-clip':
      'trained like the baseline with per-core clipping simulated: the batch of 16 split into 4 micro-batches ("cores"), each micro-batch\'s mean gradient clipped to norm C, then averaged.',
    'adaptive-per-example-clip': `trained like the baseline with per-example clipping whose C follows the norms down: at every step, C = the ${metrics.adaptiveQuantile ?? 0.1} quantile of that batch's own per-example gradient norms.`,
    'adaptive-per-core-clip': metrics.adaptiveQuantile
      ? `trained like the baseline with adaptive per-core clipping: 4 micro-batches per batch, each clipped to the ${metrics.adaptiveQuantile} quantile of the 4 micro-batch norms of that step (arXiv 2406.02004 uses the smallest).`
      : 'trained like the baseline with adaptive per-core clipping (arXiv 2406.02004): 4 micro-batches per batch, each clipped to the smallest of the 4 micro-batch norms of that step.',
  };
  const parts = [
    `A small Conformer-CTC speech recognizer ${what[variant] ?? ''} Its audit: ${report.verdict.sentence}.`,
  ];
  if (pair) parts.push(`Compared with the baseline (\`rote compare\`): ${pair.verdict}.`);
  if (training.variants[variant] && !training.variants[variant]!.chosen)
    parts.push(
      `**Its CER on ${ruleSet(metrics)}, ${ruleCer(metrics).toFixed(5)}, is above the bound ${training.bound.toFixed(5)}**: shipped because the round has no ${variant} run within it (see "The round and the C rule").`,
    );
  parts.push('It exists to demonstrate and test rote (`npm start` audits it); it is not a general-purpose ASR model.');
  return parts.join(' ');
}

function card(input: {
  name: string;
  report: AuditReport;
  comparison: ComparisonReport;
  training: Training;
  agreement: TranscriptAgreement;
  /** Where the PyTorch transcripts came from (the fixture's computedOn). */
  pytorchComputedOn: string;
  onnxSha256: string;
  tokensSha256: string;
  set: { perGroup: number; repetitions: number[]; holdout: number; setId: string };
  peer: SherpaPeerResult | null;
}): string {
  const { name, report, comparison, training, agreement, set } = input;
  const { round } = training;
  const f32 = input.pytorchComputedOn.includes('float32');
  const metrics = training.shipped[name]!;
  const clipped = metrics.groupsPerBatch !== null;
  const copies = set.perGroup * set.repetitions.reduce((sum, r) => sum + r, 0);
  const pair = comparison.pairs.find((p) => p.other === name);
  const facts: [string, string][] = [
    [
      'architecture',
      `Conformer-CTC: Conv1d subsampling by 2, ${metrics.config.layers} Conformer layers (d ${metrics.config.dim}, ${metrics.config.heads} heads, FFN ${metrics.config.ffn}, kernel ${metrics.config.kernel}, LayerNorm in the convolution module), 29 characters with blank last`,
    ],
    [
      'parameters',
      `${metrics.parameters.toLocaleString('en-US')} (model.onnx ${(metrics.onnxBytes / 1e6).toFixed(1)} MB fp32, opset 17, dynamic batch and time, NeMo CTC export form with sherpa-onnx metadata)`,
    ],
    [
      'input',
      "NeMo mel features (80 bins, per-feature normalized) computed by rote's `nemo-mel` frontend, the same code the audit runs",
    ],
    [
      'training data',
      metrics.variant === 'control'
        ? `${metrics.trainUtterances} corpus utterances (grammar sentences, seed \`${round.corpus.seed}\`, espeak-ng voices, 16 kHz), no canary`
        : `${metrics.trainUtterances} lines: ${round.corpus.train} corpus utterances + ${copies} canary copies (${((100 * copies) / metrics.trainUtterances).toFixed(2)}%; canaries/demo, set \`${set.setId.slice(0, 12)}\`: ${set.perGroup} canaries at each of ${set.repetitions.join(', ')} repetitions, woven in by rote's inject API; the ${set.holdout} held-out canaries never trained on)`,
    ],
    [
      'dev set',
      `${round.corpus.dev} corpus utterances; dev CER ${metrics.devCer.toFixed(4)} (PyTorch greedy)` +
        (metrics.devEval
          ? `; evaluation set (the C rule's): ${ruleSet(metrics)}, CER ${metrics.devEval.cer.toFixed(5)} (${metrics.devEval.errors} errors)`
          : ''),
    ],
    [
      'optimization',
      `AdamW, lr ${metrics.lr}, ${metrics.warmup} warm-up steps then cosine to 5%, batch ${metrics.batchSize}, ${metrics.steps} steps (${metrics.epochs.toFixed(2)} passes over the training lines), no augmentation, seed ${metrics.seed}`,
    ],
    ['round size', round.sizeNote],
    [
      'clipping',
      clipped
        ? `${metrics.groupsPerBatch === metrics.batchSize ? 'per example' : `per micro-batch (${metrics.groupsPerBatch} per batch)`}; ${clipText(metrics)}`
        : 'none',
    ],
    ['trained on', `${round.machine}, Python ${round.python}, torch ${round.torch}; ${round.together}`],
    [
      'training wall time',
      `${(metrics.trainWallSec / 60).toFixed(1)} min (${metrics.meanSecPerStep.toFixed(3)} s/step, one thread)${metrics.resumedFrom !== null ? `, resumed from a checkpoint at step ${metrics.resumedFrom}` : ''}; ${(metrics.totalWallSec / 60).toFixed(1)} min with dev and canary transcription and export (the evaluation set's run not included)`,
    ],
    [
      'files',
      `model.onnx sha256 \`${input.onnxSha256.slice(0, 16)}…\`, tokens.txt sha256 \`${input.tokensSha256.slice(0, 16)}…\``,
    ],
  ];
  const differences = agreement.differences.map(
    (d) => `${d.id} (${d.group}): PyTorch "${d.pytorch}", rote "${d.rote}"`,
  );
  return [
    `# ${name}: rote reference model`,
    '',
    summary(name, metrics, report, pair, training),
    '',
    '<!-- Generated by scripts/reference/model-cards.ts; edit that script, not this file. -->',
    '',
    table(['', ''], facts),
    '',
    '## Audit',
    '',
    `\`rote audit --canaries canaries/demo --model models/${name}\` (what \`npm start\` prints for this model; alpha ${report.settings.alpha}, CPU provider when generated):`,
    '',
    auditSection(report),
    ...(pair
      ? [
          '',
          '## Compared with the baseline',
          '',
          `\`rote compare\` (paired Wilcoxon per group): ${pair.verdict}.`,
          '',
          pairedDifferences(pair, comparison),
        ]
      : []),
    '',
    ...(clipped
      ? [clippingOverTraining(metrics), '', ...(pair ? [clippingFinding(metrics, pair, round), ''] : [])]
      : []),
    ruleSection(training, metrics.name),
    '',
    '## Export and engine agreement',
    '',
    metrics.onnxCheck.maxAbsDiff !== undefined
      ? `- ONNX vs PyTorch right after training (onnxruntime, CPU, padded batches of 16 dev utterances): max |difference| of the log-probabilities ${metrics.onnxCheck.maxAbsDiff.toExponential(1)}, greedy transcripts ${metrics.onnxCheck.greedyAgreement} identical.`
      : "- ONNX vs PyTorch right after training: not checked on the training machine (its Python, Debian's, has no onnxruntime); the comparison below, rote's ONNX run against the PyTorch model's own transcripts, is the check.",
    `- rote's ONNX run (its own frontend from the WAVs, batching, greedy CTC) vs the PyTorch model's own greedy transcripts of the ${agreement.total} demo canaries (${f32 ? "from float32 features of the canaries computed by rote's frontend, train.py canary-transcripts" : 'computed right after training, from the fp16 feature store'}; test/fixtures/reference/): ` +
      `${agreement.same}/${agreement.total} identical (${((100 * agreement.same) / agreement.total).toFixed(1)}%), inserted canaries ${agreement.insertedSame}/${agreement.inserted}.` +
      (differences.length > 0
        ? ` Differences (at most ${maxEdits(agreement)} character edit(s) each; ${f32 ? 'the same fp32 features on both sides: PyTorch vs ONNX Runtime arithmetic' : 'the PyTorch side reads fp16 stored features, rote computes fp32 from the WAVs'}): ${differences.join('; ')}.`
        : ''),
    '',
    ...(input.peer ? [sherpaSection(input.peer), ''] : []),
    '## How it was made',
    '',
    'From the repository root, on a 2-core CPU (scripts/reference/README.md has the details and the times measured):',
    '',
    '```sh',
    ...round.commands,
    '```',
    '',
    `The round's records (every run's metrics with its loss, norm and clipping history, consoles, the probe) are in scripts/reference/results/${round.id}/. ` +
      'Floating-point arithmetic differs across machines and library versions, so a rerun elsewhere gives close but not identical weights.',
    '',
  ].join('\n');
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { provider: { type: 'string', default: 'cpu' } } });
  const training = await loadTraining();
  const fixture = await readJson<TranscriptFixture>(PYTORCH_TRANSCRIPTS);
  const setFile = await readCanarySet(DEMO_CANARIES_DIR);
  const set = {
    setId: setFile.setId,
    perGroup: setFile.parameters.perGroup,
    repetitions: setFile.parameters.repetitions,
    holdout: setFile.parameters.holdout,
  };
  const models = await listDemoModels();
  const hashes: Record<string, string> = {};
  for (const model of models) {
    hashes[model.name] = await sha256File(join(model.dir, 'model.onnx'));
    const problem = shippedMismatch(model.name, training, fixture, hashes[model.name]!);
    if (problem) throw new Error(problem);
  }
  const out = await mkdtemp(join(tmpdir(), 'rote-model-cards-'));
  try {
    const demo = await runDemo({ out, provider: values.provider as AuditProvider });
    const peer = await sherpaPeer(join(DEMO_MODELS_DIR, 'baseline'), DEMO_CANARIES_DIR);
    await writeFileAtomic(SHERPA_PEER, `${JSON.stringify(peer, null, 1)}\n`);
    for (const model of demo.models) {
      const text = card({
        name: model.name,
        report: model.report,
        comparison: demo.comparison,
        training,
        agreement: transcriptAgreement(model.report, fixture.models[model.name]!.hypotheses),
        pytorchComputedOn: fixture.models[model.name]!.computedOn,
        onnxSha256: hashes[model.name]!,
        tokensSha256: await sha256File(join(model.dir, 'tokens.txt')),
        set,
        peer: model.name === 'baseline' ? peer : null,
      });
      await writeFileAtomic(join(model.dir, 'MODEL_CARD.md'), text);
      process.stdout.write(`wrote ${join(model.dir, 'MODEL_CARD.md')}\n`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
