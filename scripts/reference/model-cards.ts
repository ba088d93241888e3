/**
 * Writes models/<name>/MODEL_CARD.md for the shipped reference models from
 *  - the training rounds' records (scripts/reference/results/<round>/: round.json,
 *    every run's metrics and console; round 1, h200-2000-steps, also holds the
 *    baseline, the control and the C search rule and bound),
 *  - the audits and the comparison that `rote demo` (npm start) computes now,
 *  - the PyTorch models' own canary transcripts (test/fixtures/reference/),
 *  - sherpa-onnx-node run as a peer on the baseline (sherpa-peer.ts, rerun here),
 * so the cards' audit tables are exactly what `npm start` prints
 * (test/reference checks that they still are). The C search is applied over
 * every round's candidates; it refuses to write cards when a shipped model is
 * not the chosen run (scripts/reference/adopt-run.ts ship puts it there).
 *
 *   node --import tsx scripts/reference/model-cards.ts [--provider cpu]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditTerminalTable, editDistance, type AuditProvider, type AuditReport, type ComparisonPair, type ComparisonReport, type PairedTest } from '../../src/audit/index.ts';
import { sha256File } from '../../src/util/hash.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { DEMO_CANARIES_DIR, DEMO_MODELS_DIR, listDemoModels, runDemo } from '../../src/audit/demo.ts';
import { sherpaPeer, type SherpaPeerResult } from './sherpa-peer.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'scripts', 'reference', 'results');
/** Training rounds, in order; the first trained the baseline and the control and holds the C search's rule (c-search.json). */
export const TRAINING_ROUNDS = ['h200-2000-steps', 'cpu-c1-2000-steps'];
export const TRAINING_RESULTS = join(RESULTS, TRAINING_ROUNDS[0]!);
export const PYTORCH_TRANSCRIPTS = join(ROOT, 'test', 'fixtures', 'reference', 'pytorch-canary-transcripts.json');
const SHERPA_PEER = join(ROOT, 'scripts', 'reference', 'results', 'sherpa-peer-baseline.json');

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
    .map((row) => ({ id: row.id, group: row.repetitions === null ? 'held-out' : `x${row.repetitions}`, pytorch: pytorch[row.id] ?? '(missing)', rote: row.hypothesis }));
  const inserted = rows.filter((row) => row.repetitions !== null);
  return {
    same: rows.length - differences.length,
    total: rows.length,
    insertedSame: inserted.length - differences.filter((d) => d.group !== 'held-out').length,
    inserted: inserted.length,
    differences,
  };
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
  trainWallSec: number;
  meanSecPerStep: number;
  totalWallSec: number;
  trainUtterances: number;
  clip: number | null;
  clipMultiplier: number | null;
  groupsPerBatch: number | null;
  normProbe: { median: number; quantiles: Record<string, number> } | null;
  devCer: number;
  canaryGroups: Record<string, { n: number; cer: number }>;
  /** Done on the training machine where its Python has onnxruntime (not Debian's: checked: false). */
  onnxCheck: { maxAbsDiff?: number; greedyAgreement?: string; checked?: boolean; note?: string };
  onnxBytes: number;
  history: { step: number; clippedFraction?: number }[];
}

/** A training round's facts (results/<round>/round.json). */
export interface Round {
  id: string;
  round: number;
  label: string;
  /** What the round tried, for headings. */
  heading: string;
  machine: string;
  python: string;
  torch: string;
  /** TF32 matmuls on the GPU (in training; train.py now turns them off before transcribing). */
  tf32: boolean;
  together: string;
  perStep: string;
  clipSetting: string;
  commands: string[];
}

export interface Candidate {
  round: Round;
  metrics: RunMetrics;
  withinBound: boolean;
}

export interface CSearch {
  rule: string;
  baselineDevCer: number;
  bound: number;
  variants: Record<string, { candidates: Candidate[]; chosen: Candidate }>;
}

export interface Training {
  rounds: Round[];
  search: CSearch;
  /** The run each shipped model comes from, by model name. */
  shipped: Record<string, { round: Round; metrics: RunMetrics }>;
}

const CLIPPED = ['per-example-clip', 'per-core-clip'];

/**
 * Every round's records and the C search over all of them, as train.py's `select` applies it
 * to one round: the smallest C whose dev CER is within the bound (round 1's baseline dev CER
 * x 1.2), else the largest C. Round 1's own c-search.json must agree with this on round 1 alone.
 */
export async function loadTraining(): Promise<Training> {
  const rounds: Round[] = [];
  const runs: { round: Round; metrics: RunMetrics }[] = [];
  for (const id of TRAINING_ROUNDS) {
    const dir = join(RESULTS, id);
    if (!existsSync(join(dir, 'round.json'))) continue;
    const round = { id, ...(await readJson<Omit<Round, 'id'>>(join(dir, 'round.json'))) };
    rounds.push(round);
    for (const file of (await readdir(join(dir, 'runs'))).filter((f) => f.endsWith('.metrics.json')).sort()) {
      runs.push({ round, metrics: await readJson<RunMetrics>(join(dir, 'runs', file)) });
    }
  }
  const first = rounds[0];
  if (!first || first.id !== TRAINING_ROUNDS[0]) throw new Error(`${TRAINING_RESULTS}/round.json is missing`);
  const recorded = await readJson<{ rule: string; baselineDevCer: number; bound: number; chosen: Record<string, string> }>(join(TRAINING_RESULTS, 'c-search.json'));
  const find = (name: string) => {
    const run = runs.find((r) => r.round === first && r.metrics.name === name);
    if (!run) throw new Error(`${TRAINING_RESULTS}/runs/${name}.metrics.json is missing`);
    return run;
  };
  const baseline = find('baseline');
  for (const { round, metrics } of runs) {
    const same = metrics.seed === baseline.metrics.seed && metrics.steps === baseline.metrics.steps && metrics.batchSize === baseline.metrics.batchSize && metrics.trainUtterances === baseline.metrics.trainUtterances;
    if (!same && metrics.variant !== 'control') throw new Error(`${round.id}/runs/${metrics.name}: seed, steps, batch or data differ from the baseline's; it is no candidate`);
  }
  const choose = (candidates: Candidate[]) => candidates.find((c) => c.withinBound) ?? candidates[candidates.length - 1]!;
  const variants: CSearch['variants'] = {};
  for (const variant of CLIPPED) {
    const candidates = runs
      .filter((r) => r.metrics.variant === variant)
      .map((r) => ({ ...r, withinBound: r.metrics.devCer <= recorded.bound }))
      .sort((a, b) => a.metrics.clip! - b.metrics.clip! || a.round.round - b.round.round);
    if (candidates.length === 0) throw new Error(`no ${variant} run in ${TRAINING_ROUNDS.join(', ')}`);
    const roundOne = choose(candidates.filter((c) => c.round === first));
    if (roundOne.metrics.name !== recorded.chosen[variant]) throw new Error(`${TRAINING_RESULTS}/c-search.json chose ${recorded.chosen[variant]}, the rule here ${roundOne.metrics.name}`);
    variants[variant] = { candidates, chosen: choose(candidates) };
  }
  const shipped: Training['shipped'] = { baseline, control: find('control') };
  for (const variant of CLIPPED) shipped[variant] = variants[variant]!.chosen;
  return { rounds, search: { rule: recorded.rule, baselineDevCer: recorded.baselineDevCer, bound: recorded.bound, variants }, shipped };
}

export interface TranscriptFixture {
  note: string;
  models: Record<string, { run: string; source: string; computedOn: string; onnxSha256: string; hypotheses: Record<string, string> }>;
}

/** Why models/<name>/model.onnx and the transcript fixture are not the run the C search chose, or null when they are. */
export function shippedMismatch(name: string, training: Training, fixture: TranscriptFixture, onnxSha256: string): string | null {
  const want = training.shipped[name];
  const have = fixture.models[name];
  if (!want) return `${name}: no run in the training records`;
  if (!have) return `${name}: no PyTorch transcripts in ${PYTORCH_TRANSCRIPTS}`;
  const fix = `run scripts/reference/adopt-run.ts ship --round ${want.round.id} <the run's directory>`;
  if (have.run !== want.metrics.name || have.source !== want.round.id) return `${name}: the C search chose ${want.metrics.name} (${want.round.id}) but the fixture holds ${have.run} (${have.source}); ${fix}`;
  if (have.onnxSha256 !== onnxSha256) return `${name}: models/${name}/model.onnx is not the export of ${have.run} (sha256 ${onnxSha256.slice(0, 12)} vs ${have.onnxSha256.slice(0, 12)}); ${fix}`;
  return null;
}

const GROUP_ORDER = ['holdout', 'x1', 'x2', 'x4', 'x8', 'x16'];
const groupsText = (groups: Record<string, { cer: number }>) => GROUP_ORDER.filter((g) => groups[g]).map((g) => `${g === 'holdout' ? 'held-out' : g} ${groups[g]!.cer.toFixed(2)}`).join(', ');

const SUMMARIES: Record<string, string> = {
  baseline: 'trained on the reference corpus with the demo canaries woven in, without gradient clipping. It memorizes them: the audit detects it from 1 repetition.',
  'per-example-clip':
    "trained like the baseline (same data, seed, steps and batch) with per-example gradient clipping: each example's gradient (torch.func vmap) clipped to norm C, then averaged.",
  'per-core-clip':
    "trained like the baseline (same data, seed, steps and batch) with per-core clipping simulated: the batch of 16 split into 4 micro-batches (\"cores\"), each micro-batch's mean gradient clipped to norm C, then averaged.",
  control: 'trained on the same corpus with the same seed and steps, without any canary: the audit must find nothing, and it finds nothing.',
};

/** Mean clipped fraction (of examples or micro-batches) over a range of steps, from the 50-step log entries. */
function clippedFraction(history: RunMetrics['history'], from: number, to: number): number {
  const entries = history.filter((entry) => entry.step > from && entry.step <= to && entry.clippedFraction !== undefined);
  return entries.reduce((sum, entry) => sum + entry.clippedFraction!, 0) / Math.max(1, entries.length);
}

const percent = (value: number) => `${(100 * value).toFixed(value < 0.1 ? 1 : 0)}%`;
const WINDOWS: [number, number][] = [[0, 500], [500, 1000], [1000, 2000]];

const shares = (metrics: RunMetrics) => WINDOWS.map(([from, to]) => percent(clippedFraction(metrics.history, from, to))).join(' / ');
const windowsHeader = WINDOWS.map(([from, to]) => `${from + 1}-${to}`).join(' / ');
const torchShort = (round: Round) => round.torch.split(' ')[0]!;

/** "C = 3.65 (0.1 x the initial median norm 36.5)" or, for a fixed C, "C = 1.00 (fixed; 0.027 x the initial median norm 36.5)". */
function clipText(metrics: RunMetrics): string {
  const median = metrics.normProbe!.median;
  return metrics.clipMultiplier !== null
    ? `C = ${metrics.clip!.toFixed(2)} (${metrics.clipMultiplier} x the initial median norm ${median.toFixed(1)})`
    : `C = ${metrics.clip!.toFixed(2)} (fixed; ${(metrics.clip! / median).toFixed(3)} x the initial median norm ${median.toFixed(1)})`;
}

/** Inserted repetition counts at which the paired comparison finds `finding` on either score. */
function groupsWith(pair: ComparisonPair | undefined, finding: PairedTest['finding']): number[] {
  return [...new Set((pair?.groups ?? []).filter((t) => t.finding === finding && t.repetitions !== null).map((t) => t.repetitions!))].sort((a, b) => a - b);
}

function differentHardware(metrics: RunMetrics, round: Round, first: Round): string {
  return (
    `This model comes from round ${round.round} of the C search, trained on ${round.machine} with torch ${round.torch}; ` +
    `the baseline and the control it is compared with were trained in round ${first.round} on ${first.machine} with torch ${first.torch}${first.tf32 ? ' (TF32 matmuls)' : ''}. ` +
    `Same data, seed (${metrics.seed}), steps (${metrics.steps}) and batch (${metrics.batchSize}); different hardware and torch version.`
  );
}

/** A sentence on the groups where `other` "memorizes more" than the baseline: which score, and how large the difference is. */
function memorizesMoreNote(name: string, pair: ComparisonPair, comparison: ComparisonReport): string | null {
  const tests = pair.groups.filter((t) => t.finding === 'other-memorizes-more');
  if (tests.length === 0) return null;
  const counts = [...new Set(tests.map((t) => t.repetitions!))].sort((a, b) => a - b);
  const scores = [...new Set(tests.map((t) => t.score))];
  const largest = Math.max(...tests.map((t) => Math.abs(t.meanDifference.estimate)));
  const exactInBoth = counts.every((r) => comparison.groups.find((g) => g.repetitions === r)!.models.filter((m) => m.name === name || m.name === pair.baseline).every((m) => m.cer.estimate === 0));
  return (
    `The "memorizes more" at ${counts.join(', ')} repetitions is ${scores.length === 1 && scores[0] === 'ctcScore' ? 'on the CTC score alone' : `on ${scores.join(' and ')}`}: ` +
    `each canary of ${counts.length === 1 ? 'that group' : 'those groups'} scores a little lower (more confident) than with the baseline, by ${largest.toExponential(1)} per character on average at most` +
    (exactInBoth ? ', where both models already transcribe every one of them exactly (CER 0.00)' : '') +
    ': consistent enough to be significant, far too small to matter, and as likely due to the different hardware and torch version as to clipping.'
  );
}

function clippingFinding(name: string, training: Training, pair: ComparisonPair | undefined, report: AuditReport, comparison: ComparisonReport): string {
  const unit = name === 'per-example-clip' ? 'examples' : 'micro-batches';
  const { search } = training;
  const variant = search.variants[name]!;
  const first = training.rounds[0]!;
  const inFirst = variant.candidates.filter((c) => c.round === first);
  const firstChoice = inFirst.find((c) => c.withinBound) ?? inFirst[inFirst.length - 1]!;
  const later = variant.candidates.filter((c) => c.round !== first);
  const out = ['## The clipping finding', ''];
  out.push(
    `### Round ${first.round} (${first.label}): ${first.heading}`,
    '',
    `The search kept the smallest multiplier tried, ${clipText(firstChoice.metrics)}: it already kept dev CER within 20% of the baseline's. ` +
      `That C was above most gradient norms for most of training: the share of ${unit} clipped was ${shares(firstChoice.metrics)} in steps ${windowsHeader} ` +
      `(\`clippedFraction\` in ${first.id}/runs/${firstChoice.metrics.name}.metrics.json). Gradient norms fall as the loss falls, so late in training, ` +
      'when single canaries are fitted to a loss near zero, clipping hardly acted. ' +
      `Clipping did **not** reduce memorization: PyTorch canary CER by group ${groupsText(firstChoice.metrics.canaryGroups)}, as the baseline's, and ` +
      (variant.chosen === firstChoice ? `\`rote compare\` against the baseline: ${pair?.verdict ?? '?'}.` : '`rote compare` found no difference from the baseline while it was the shipped model.'),
  );
  for (const candidate of later) {
    const { round, metrics } = candidate;
    const text = [
      `${clipText(metrics)}. The share of ${unit} clipped was ${shares(metrics)} in steps ${windowsHeader}. ` +
        `Dev CER ${metrics.devCer.toFixed(4)}: ${candidate.withinBound ? 'within' : 'above'} the bound ${search.bound}.`,
    ];
    if (candidate === variant.chosen) {
      const less = groupsWith(pair, 'other-memorizes-less');
      text.push(
        `It is the smallest C within the bound, so it is the shipped model. Its audit: ${report.verdict.sentence}. Compared with the baseline (\`rote compare\`): ${pair?.verdict ?? '?'}.`,
        less.length > 0
          ? `With clipping active through much more of training than in round ${first.round}, the comparison finds less memorization than the baseline at ${less.join(', ')} repetition${less.length === 1 && less[0] === 1 ? '' : 's'} (PyTorch canary CER by group ${groupsText(metrics.canaryGroups)}).`
          : `Clipping acted through much more of training than in round ${first.round} and still did not reduce memorization measurably (PyTorch canary CER by group ${groupsText(metrics.canaryGroups)}).`,
        ...(pair ? [memorizesMoreNote(name, pair, comparison) ?? ''] : []),
        `Caveat: ${differentHardware(metrics, round, first).replace(/^This/, 'this')} Part of any difference from the baseline can come from that; no baseline was trained on the same CPU.`,
      );
    } else if (!candidate.withinBound) {
      text.push(`The rule rejects it: the round-${first.round} model stays. Its PyTorch canary CER by group: ${groupsText(metrics.canaryGroups)} (trained on ${round.machine}, torch ${round.torch}).`);
    } else {
      text.push(`Not chosen: a smaller C met the bound. Its PyTorch canary CER by group: ${groupsText(metrics.canaryGroups)}.`);
    }
    out.push('', `### Round ${round.round} (${round.label}): ${round.heading}`, '', `${round.clipSetting}.`, text.filter(Boolean).join(' '));
  }
  out.push(
    '',
    'Likely reasons where clipping did not protect, as hypotheses:',
    ...(later.length === 0
      ? ['- C was set from norms at initialization; it has to be set against the norms of late training (the probe in training-notes.md clipped at C = 1 against norms of 1.4-12, every example clipped, and saw protection at 1-4 repetitions after 1000 steps).']
      : later.map(
          ({ metrics }) =>
            `- Even C = ${metrics.clip!.toFixed(2)} fell above most norms late in training (${percent(clippedFraction(metrics.history, 1000, 2000))} of ${unit} clipped in steps 1001-2000, ${percent(metrics.history[metrics.history.length - 1]!.clippedFraction ?? 0)} in the last 50): a C that keeps clipping active while the canaries are fitted would have to shrink with the loss.`,
        )),
    '- Even where clipping acts, AdamW divides each update by a running estimate of the gradient\'s scale, so clipping every example by a similar factor changes little: it reweights examples rather than slowing learning as under SGD.',
    '- 2000 steps x 16 = ~17 passes over 1872 training lines: a canary inserted once is still seen ~17 times.',
    '',
    'The next experiment: scripts/reference/README.md.',
  );
  return out.join('\n');
}

function table(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function cSearchSection(name: string, training: Training): string {
  const { search } = training;
  const variant = search.variants[name]!;
  const rows = variant.candidates.map(({ round, metrics, withinBound }) => {
    const chosen = variant.chosen.metrics === metrics;
    const median = metrics.normProbe!.median;
    return [
      `${round.round} (${round.label}, torch ${torchShort(round)})`,
      chosen ? `**${metrics.clip!.toFixed(2)}** (chosen)` : metrics.clip!.toFixed(2),
      metrics.clipMultiplier !== null ? `${metrics.clipMultiplier} x ${median.toFixed(1)}` : `fixed (${(metrics.clip! / median).toFixed(3)} x ${median.toFixed(1)})`,
      metrics.devCer.toFixed(4),
      withinBound ? 'yes' : 'no',
      shares(metrics),
      groupsText(metrics.canaryGroups),
    ];
  });
  const baseline = training.shipped['baseline']!.metrics;
  return [
    '## C search',
    '',
    `Rule: ${search.rule}; baseline dev CER ${search.baselineDevCer}, bound ${search.bound}. ` +
      training.rounds.map((round) => `Round ${round.round}: ${round.machine}, torch ${round.torch}; ${round.clipSetting}.`).join(' ') +
      ` The norms are ${name === 'per-example-clip' ? "single examples'" : "micro-batches' mean"} gradient norms. ` +
      `Every candidate is a full run with the baseline's data, seed (${baseline.seed}), steps (${baseline.steps}) and batch (${baseline.batchSize}); canary CER per group is the PyTorch model's greedy transcripts, on the machine that trained it.`,
    '',
    table(['round', 'C', 'how C was set', 'dev CER', 'within bound', `${name === 'per-example-clip' ? 'examples' : 'micro-batches'} clipped, steps ${windowsHeader}`, 'canary CER by group'], rows),
  ].join('\n');
}

function sherpaSection(peer: SherpaPeerResult): string {
  const groups = Object.keys(peer.engines.sherpa.cerByGroup);
  const a = peer.agreement.sherpaVsRoteNemo;
  const b = peer.agreement.sherpaVsRoteSherpaCompatible;
  const example = peer.examples.find((e) => e.group !== 'held-out') ?? peer.examples[0];
  return [
    '## sherpa-onnx as a peer engine',
    '',
    `sherpa-onnx-node ${peer.versions.sherpaOnnxNode} loads this directory unchanged (\`nemoCtc\` model + tokens.txt, greedy search) and transcribes all ${peer.canaries} demo canaries (\`node --import tsx scripts/reference/sherpa-peer.ts\`, CPU, ${peer.seconds} s with both rote runs).`,
    '',
    table(
      ['engine', ...groups, 'transcripts identical to sherpa-onnx'],
      [
        ['sherpa-onnx (its own NeMo frontend)', ...groups.map((g) => peer.engines.sherpa.cerByGroup[g]!.toFixed(3)), '-'],
        ['rote, NeMo frontend (what the audit uses)', ...groups.map((g) => peer.engines.roteNemo.cerByGroup[g]!.toFixed(3)), `${a.same}/${a.total} (${Object.entries(a.byGroup).map(([g, v]) => `${g} ${v}`).join(', ')})`],
        ['rote `sherpaCompatible` (sherpa-onnx\'s frontend, reimplemented)', ...groups.map((g) => peer.engines.roteSherpaCompatible.cerByGroup[g]!.toFixed(3)), `${b.same}/${b.total}`],
      ],
    ),
    '',
    'Mean CER per group. The engines agree exactly when they compute the same features: rote\'s sherpa-compatible variant matches sherpa-onnx on every canary. ' +
      "Against rote's NeMo-exact frontend (the features the model was trained on) agreement is low: sherpa-onnx's NeMo frontend is not NeMo's " +
      '(Kaldi-style framing, pre-emphasis per frame, periodic window, population variance; ../shared/docs/formats.md), and this small model, trained without augmentation on ' +
      'exactly the NeMo features, is sensitive to that shift. Through sherpa-onnx the inserted canaries are still recognized far better than held-out ones ' +
      `(CER ${groups.filter((g) => g !== 'held-out').map((g) => peer.engines.sherpa.cerByGroup[g]!.toFixed(2)).join(' / ')} vs ${peer.engines.sherpa.cerByGroup['held-out']!.toFixed(2)}), ` +
      'but not perfectly: audit with the frontend the model was trained with.',
    ...(example ? ['', `Example (${example.group}): reference "${example.reference}"; sherpa-onnx "${example.sherpa}"; rote NeMo "${example.roteNemo}".`] : []),
  ].join('\n');
}

function maxEdits(agreement: TranscriptAgreement): number {
  return Math.max(0, ...agreement.differences.map((d) => editDistance([...d.pytorch.replace(/\s+/g, ' ').trim()], [...d.rote.replace(/\s+/g, ' ').trim()])));
}

function heldOutNote(comparison: ComparisonReport): string {
  const heldOut = comparison.groups.find((group) => group.repetitions === null)!;
  const cer = (model: string) => heldOut.models.find((entry) => entry.name === model)?.cer.estimate.toFixed(2) ?? '?';
  return (
    `The control recognizes even the held-out canaries worse than the baseline (mean CER ${cer('control')} vs ${cer('baseline')}): ` +
    'the baseline trained on 372 sped-up canary copies and so learned sped-up speech in general, which the control never heard. ' +
    "The control's inserted groups are no better than its held-out group, as they must be: it never saw them."
  );
}

function card(input: {
  name: string;
  report: AuditReport;
  comparison: ComparisonReport;
  training: Training;
  agreement: TranscriptAgreement;
  onnxSha256: string;
  tokensSha256: string;
  set: { perGroup: number; repetitions: number[]; holdout: number; setId: string };
  peer: SherpaPeerResult | null;
}): string {
  const { name, report, comparison, training, agreement, set } = input;
  const { round, metrics } = training.shipped[name]!;
  const first = training.rounds[0]!;
  const clipped = CLIPPED.includes(name);
  const copies = set.perGroup * set.repetitions.reduce((sum, r) => sum + r, 0);
  const pair = comparison.pairs.find((p) => p.other === name);
  const epochs = (metrics.steps * metrics.batchSize) / metrics.trainUtterances;
  const facts: [string, string][] = [
    ['architecture', `Conformer-CTC: Conv1d subsampling by 2, ${metrics.config.layers} Conformer layers (d ${metrics.config.dim}, ${metrics.config.heads} heads, FFN ${metrics.config.ffn}, kernel ${metrics.config.kernel}, LayerNorm in the convolution module), 29 characters with blank last`],
    ['parameters', `${metrics.parameters.toLocaleString('en-US')} (model.onnx ${(metrics.onnxBytes / 1e6).toFixed(1)} MB fp32, opset 17, NeMo CTC export form with sherpa-onnx metadata)`],
    ['input', "NeMo mel features (80 bins, per-feature normalized) computed by rote's `nemo-mel` frontend, the same code the audit runs"],
    [
      'training data',
      name === 'control'
        ? `${metrics.trainUtterances} corpus utterances (grammar sentences, espeak-ng voices, 16 kHz), no canary`
        : `${metrics.trainUtterances} lines: 1500 corpus utterances + ${copies} canary copies (canaries/demo, set \`${set.setId.slice(0, 12)}\`: ${set.perGroup} canaries at each of ${set.repetitions.join(', ')} repetitions, woven in by rote's inject API; the ${set.holdout} held-out canaries never trained on)`,
    ],
    ['dev set', `150 corpus utterances; dev CER ${metrics.devCer.toFixed(4)} (PyTorch greedy)`],
    ['optimization', `AdamW, lr ${metrics.lr}, ${metrics.warmup} warm-up steps then cosine to 5%, batch ${metrics.batchSize}, ${metrics.steps} steps (~${epochs.toFixed(0)} passes over the training lines), no augmentation, seed ${metrics.seed}`],
    ['clipping', clipped ? `${name === 'per-example-clip' ? 'per example' : `per micro-batch (${metrics.groupsPerBatch} per batch)`}, ${clipText(metrics)}` : 'none'],
    ['trained on', `${round.machine}, Python ${round.python}, torch ${round.torch}; round ${round.round} of the C search: ${round.together}`],
    ['training wall time', `${metrics.trainWallSec.toFixed(1)} s (${metrics.meanSecPerStep.toFixed(3)} s/step ${round.perStep}); ${metrics.totalWallSec.toFixed(1)} s with evaluation and export`],
    ['files', `model.onnx sha256 \`${input.onnxSha256.slice(0, 16)}…\`, tokens.txt sha256 \`${input.tokensSha256.slice(0, 16)}…\``],
  ];
  const differences = agreement.differences.map((d) => `${d.id} (${d.group}): PyTorch "${d.pytorch}", rote "${d.rote}"`);
  const why = round.tf32
    ? 'the PyTorch transcripts were computed on the GPU with TF32 matmuls (train.py now turns TF32 off before transcribing)'
    : "the PyTorch transcripts come from the fp16 feature store, rote's from the WAVs in fp32";
  return [
    `# ${name}: rote reference model`,
    '',
    `A small Conformer-CTC speech recognizer ${SUMMARIES[name]}` +
      (clipped ? ` At the C chosen, \`rote compare\` against the baseline: ${pair?.verdict ?? '?'} (see "The clipping finding").` : '') +
      ' It exists to demonstrate and test rote (`npm start` audits it); it is not a general-purpose ASR model.',
    '',
    '<!-- Generated by scripts/reference/model-cards.ts; edit that script, not this file. -->',
    '',
    table(['', ''], facts),
    '',
    ...(round !== first ? [`**Trained on different hardware from the baseline.** ${differentHardware(metrics, round, first)}`, ''] : []),
    '## Audit',
    '',
    `\`rote audit --canaries canaries/demo --model models/${name}\` (what \`npm start\` prints for this model; alpha ${report.settings.alpha}, CPU provider when generated):`,
    '',
    auditSection(report),
    ...(pair ? ['', `Compared with the baseline (\`rote compare\`): ${pair.verdict}.`] : []),
    ...(name === 'baseline' || name === 'control' ? ['', heldOutNote(comparison)] : []),
    '',
    ...(clipped ? [cSearchSection(name, training), '', clippingFinding(name, training, pair, report, comparison), ''] : []),
    '## Export and engine agreement',
    '',
    metrics.onnxCheck.maxAbsDiff !== undefined
      ? `- ONNX vs PyTorch right after training (onnxruntime, CPU, padded batches of 16 dev utterances): max |difference| of the log-probabilities ${metrics.onnxCheck.maxAbsDiff.toExponential(1)}, greedy transcripts ${metrics.onnxCheck.greedyAgreement} identical.`
      : "- ONNX vs PyTorch right after training: not checked on the training machine (its Python, Debian's, has no onnxruntime); the comparison below, rote's ONNX run against the PyTorch model's own transcripts, is the check.",
    `- rote's ONNX run (its own frontend from the WAVs, batching, greedy CTC) vs the PyTorch model's own greedy transcripts of the ${agreement.total} demo canaries (computed on ${round.machine} right after training, test/fixtures/reference/): ` +
      `${agreement.same}/${agreement.total} identical (${((100 * agreement.same) / agreement.total).toFixed(1)}%), inserted canaries ${agreement.insertedSame}/${agreement.inserted}.` +
      (differences.length > 0
        ? ` Differences (at most ${maxEdits(agreement)} character edit(s) each, ${name === 'control' || agreement.differences.every((d) => d.group === 'held-out') ? 'all on canaries the model never trained on, where it is uncertain' : 'some on inserted canaries'}); ${why}: ${differences.join('; ')}.`
        : ''),
    '',
    ...(input.peer ? [sherpaSection(input.peer), ''] : []),
    '## How it was made',
    '',
    'From the repository root (scripts/reference/README.md has the details and timings):',
    '',
    '```sh',
    'bash scripts/reference/setup.sh         # Debian: python3-torch, python3-torchaudio, python3-onnx (CPU, for the self-test and dry runs)',
    'bash scripts/reference/build-data.sh    # corpus (rote TTS) -> canaries/demo (rote generate) -> inject -> feature store (rote nemo-mel)',
    'bash scripts/reference/pack-device.sh   # .device/reference/: train.py, run-on-device.sh, the features (46.7 MB)',
    '# round 1, on one GPU (torch 2.x; this run: NVIDIA H200, torch 2.11.0+cu130), from the repository root:',
    'OUT=out/reference bash .device/reference/run-on-device.sh',
    ...training.rounds.slice(1).flatMap((later) => [`# round ${later.round} (${later.machine}, torch ${later.torch}):`, ...later.commands.filter((command) => !command.startsWith('bash scripts/reference/build-data.sh'))]),
    'node --import tsx scripts/reference/model-cards.ts   # after copying the chosen .onnx files into models/<name>/model.onnx',
    '```',
    '',
    `This model's run records (metrics with the loss and clipped-fraction history, console) are in scripts/reference/results/${round.id}/` +
      (round !== first ? `; the baseline's, the control's and round 1's C search in scripts/reference/results/${first.id}/. ` : ' (with every run of the round, the C search and the self-test). ') +
      'Floating-point arithmetic differs across hardware and torch versions, so a rerun elsewhere gives close but not identical weights.',
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
  const setFile = await readJson<{ setId: string; parameters: { perGroup: number; repetitions: number[]; holdout: number } }>(join(DEMO_CANARIES_DIR, 'canary-set.json'));
  const set = { setId: setFile.setId, perGroup: setFile.parameters.perGroup, repetitions: setFile.parameters.repetitions, holdout: setFile.parameters.holdout };
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
