/**
 * Writes models/<name>/MODEL_CARD.md for the shipped reference models from
 *  - the training run's records (scripts/reference/results/h200-2000-steps/:
 *    metrics of every run, the C search, the device console),
 *  - the audits and the comparison that `rote demo` (npm start) computes now,
 *  - the PyTorch models' own canary transcripts (test/fixtures/reference/),
 *  - sherpa-onnx-node run as a peer on the baseline (sherpa-peer.ts, rerun here),
 * so the cards' audit tables are exactly what `npm start` prints
 * (test/reference checks that they still are).
 *
 *   node --import tsx scripts/reference/model-cards.ts [--provider cpu]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditTerminalTable, editDistance, type AuditProvider, type AuditReport, type ComparisonReport } from '../../src/audit/index.ts';
import { sha256File } from '../../src/util/hash.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { DEMO_CANARIES_DIR, DEMO_MODELS_DIR, runDemo } from '../../src/cli/demo.ts';
import { sherpaPeer, type SherpaPeerResult } from './sherpa-peer.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const TRAINING_RESULTS = join(ROOT, 'scripts', 'reference', 'results', 'h200-2000-steps');
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

interface RunMetrics {
  name: string;
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
  onnxCheck: { maxAbsDiff: number; greedyAgreement: string };
  onnxBytes: number;
  history: { step: number; clippedFraction?: number }[];
}

interface CSearch {
  rule: string;
  baselineDevCer: number;
  bound: number;
  variants: Record<string, { candidates: { name: string; clip: number; clipMultiplier: number; normMedianAtInit: number; devCer: number; withinBound: boolean; clippedFractionLast: number; canaryGroups: Record<string, { cer: number }> }[]; chosen: string }>;
  chosen: Record<string, string>;
}

const GROUP_ORDER = ['holdout', 'x1', 'x2', 'x4', 'x8', 'x16'];
const groupsText = (groups: Record<string, { cer: number }>) => GROUP_ORDER.filter((g) => groups[g]).map((g) => `${g === 'holdout' ? 'held-out' : g} ${groups[g]!.cer.toFixed(2)}`).join(', ');

const SUMMARIES: Record<string, string> = {
  baseline: 'trained on the reference corpus with the demo canaries woven in, without gradient clipping. It memorizes them: the audit detects it from 1 repetition.',
  'per-example-clip':
    "trained exactly like the baseline (same data, seed and steps) with per-example gradient clipping: each example's gradient (torch.func vmap) clipped to norm C, then averaged. At the C chosen it memorizes the canaries as much as the baseline does (see \"The clipping finding\").",
  'per-core-clip':
    "trained exactly like the baseline (same data, seed and steps) with per-core clipping simulated: the batch of 16 split into 4 micro-batches (\"cores\"), each micro-batch's mean gradient clipped to norm C, then averaged. At the C chosen it memorizes the canaries as much as the baseline does (see \"The clipping finding\").",
  control: 'trained on the same corpus with the same seed and steps, without any canary: the audit must find nothing, and it finds nothing.',
};

/** Mean clipped fraction (of examples or micro-batches) over a range of steps, from the 50-step log entries. */
function clippedFraction(history: RunMetrics['history'], from: number, to: number): number {
  const entries = history.filter((entry) => entry.step > from && entry.step <= to && entry.clippedFraction !== undefined);
  return entries.reduce((sum, entry) => sum + entry.clippedFraction!, 0) / Math.max(1, entries.length);
}

const percent = (value: number) => `${(100 * value).toFixed(value < 0.1 ? 1 : 0)}%`;
const WINDOWS: [number, number][] = [[0, 500], [500, 1000], [1000, 2000]];

function clippingFinding(name: string, metrics: RunMetrics, probeMedian: number): string {
  const unit = name === 'per-example-clip' ? 'examples' : 'micro-batches';
  const fractions = WINDOWS.map(([from, to]) => `${percent(clippedFraction(metrics.history, from, to))} in steps ${from + 1}-${to}`);
  return `## The clipping finding

In this run, clipping did **not** reduce memorization: both clipped variants
recognize the inserted canaries as well as the baseline does, at every
repetition count, and \`rote compare\` finds no difference from the baseline.
The C search kept the smallest multiplier tried (0.1): it already kept dev CER
within 20% of the baseline's, so the search never reached a C that costs accuracy.

What the logs show: C = ${metrics.clip!.toFixed(2)} (0.1 x the median norm at
initialization, ${probeMedian.toFixed(1)}) was above most gradient norms for most of
training. The share of ${unit} clipped was ${fractions.join(', ')}
(\`clippedFraction\` in runs/${metrics.name}.metrics.json). Gradient norms fall
as the loss falls, so late in training, when single canaries are fitted to a
loss near zero, clipping hardly acted.

Likely reasons, as hypotheses (not tested yet):
- C was set from norms at initialization; it has to be set against the norms
  of late training (the probe in training-notes.md clipped at C = 1 against
  norms of 1.4-12, every example clipped, and saw protection at 1-4
  repetitions after 1000 steps).
- Even where clipping acts, AdamW divides each update by a running estimate of
  the gradient's scale, so clipping every example by a similar factor changes
  little: it reweights examples rather than slowing learning as under SGD.
- 2000 steps x 16 = ~17 passes over 1872 training lines: a canary inserted
  once is still seen ~17 times.

The next experiment (scripts/reference/README.md): C from late-training norms
(multipliers 0.01 and 0.03 of the initial median, or a fixed C near the median
norm after a few hundred steps), fewer steps, more canaries per group.`;
}

function table(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function cSearchSection(name: string, search: CSearch, runs: Record<string, RunMetrics>): string {
  const variant = search.variants[name]!;
  const rows = variant.candidates.map((c) => [
    c.name === variant.chosen ? `**${c.clipMultiplier}** (chosen)` : String(c.clipMultiplier),
    c.clip.toFixed(2),
    c.devCer.toFixed(4),
    c.withinBound ? 'yes' : 'no',
    WINDOWS.map(([from, to]) => percent(clippedFraction(runs[c.name]!.history, from, to))).join(' / '),
    groupsText(c.canaryGroups),
  ]);
  return [
    '## C search',
    '',
    `C = multiplier x median ${name === 'per-example-clip' ? 'per-example' : 'per-micro-batch'} gradient norm of the initial model over 4 batches (${variant.candidates[0]!.normMedianAtInit.toFixed(1)}). Rule: ${search.rule}; baseline dev CER ${search.baselineDevCer}, bound ${search.bound}. Each candidate is a full 2000-step run; canary CER per group is the PyTorch model's (greedy, on the GPU).`,
    '',
    table(['multiplier', 'C', 'dev CER', 'within bound', `${name === 'per-example-clip' ? 'examples' : 'micro-batches'} clipped, steps 1-500 / 501-1000 / 1001-2000`, 'canary CER by group'], rows),
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
  metrics: RunMetrics;
  search: CSearch;
  runs: Record<string, RunMetrics>;
  agreement: TranscriptAgreement;
  onnxSha256: string;
  tokensSha256: string;
  console: string;
  set: { perGroup: number; repetitions: number[]; holdout: number; setId: string };
  peer: SherpaPeerResult | null;
}): string {
  const { name, report, comparison, metrics, search, agreement, set } = input;
  const clipped = name === 'per-example-clip' || name === 'per-core-clip';
  const copies = set.perGroup * set.repetitions.reduce((sum, r) => sum + r, 0);
  const gpu = /^NVIDIA[^,\n]*/m.exec(input.console)?.[0] ?? 'the GPU';
  const python = /python (\S+) torch (\S+)/.exec(input.console);
  const total = /== summary \(total (\d+)s\)/.exec(input.console)?.[1];
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
    ['clipping', clipped ? `${name === 'per-example-clip' ? 'per example' : `per micro-batch (${metrics.groupsPerBatch} per batch)`}, C = ${metrics.clip!.toFixed(2)} (${metrics.clipMultiplier} x the initial median norm ${metrics.normProbe!.median.toFixed(1)})` : 'none'],
    ['trained on', `${gpu}, Python ${python?.[1] ?? '?'}, torch ${python?.[2] ?? metrics.torch}; 8 runs in parallel on the one GPU (the four variants and the C search), ${total ?? '?'} s for the whole device script`],
    ['training wall time', `${metrics.trainWallSec.toFixed(1)} s (${metrics.meanSecPerStep.toFixed(3)} s/step while sharing the GPU with 7 other runs); ${metrics.totalWallSec.toFixed(1)} s with evaluation and export`],
    ['files', `model.onnx sha256 \`${input.onnxSha256.slice(0, 16)}…\`, tokens.txt sha256 \`${input.tokensSha256.slice(0, 16)}…\``],
  ];
  const differences = agreement.differences.map((d) => `${d.id} (${d.group}): PyTorch "${d.pytorch}", rote "${d.rote}"`);
  return [
    `# ${name}: rote reference model`,
    '',
    `A small Conformer-CTC speech recognizer ${SUMMARIES[name]} It exists to demonstrate and test rote (\`npm start\` audits it); it is not a general-purpose ASR model.`,
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
    ...(pair ? ['', `Compared with the baseline (\`rote compare\`, paired Wilcoxon per group): ${pair.verdict}.`] : []),
    ...(name === 'baseline' || name === 'control'
      ? [
          '',
          heldOutNote(comparison),
        ]
      : []),
    '',
    ...(clipped ? [cSearchSection(name, search, input.runs), '', clippingFinding(name, metrics, metrics.normProbe!.median), ''] : []),
    '## Export and engine agreement',
    '',
    `- ONNX vs PyTorch on the device (onnxruntime, CPU, padded batches of 16 dev utterances): max |difference| of the log-probabilities ${metrics.onnxCheck.maxAbsDiff.toExponential(1)}, greedy transcripts ${metrics.onnxCheck.greedyAgreement} identical.`,
    `- rote's ONNX run (its own frontend from the WAVs, batching, greedy CTC) vs the PyTorch model's own greedy transcripts of the ${agreement.total} demo canaries (computed on the GPU right after training, test/fixtures/reference/): ` +
      `${agreement.same}/${agreement.total} identical (${((100 * agreement.same) / agreement.total).toFixed(1)}%), inserted canaries ${agreement.insertedSame}/${agreement.inserted}.` +
      (differences.length > 0
        ? ` Differences (at most ${maxEdits(agreement)} character edit(s) each, ${name === 'control' || agreement.differences.every((d) => d.group === 'held-out') ? 'all on canaries the model never trained on, where it is uncertain' : 'some on inserted canaries'}); the PyTorch transcripts were computed on the GPU with TF32 matmuls (train.py now turns TF32 off before transcribing): ${differences.join('; ')}.`
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
    '# on one GPU (torch 2.x; this run: NVIDIA H200, torch 2.11.0+cu130), from the repository root:',
    'OUT=out/reference bash .device/reference/run-on-device.sh',
    '# or on the CPU (Debian torch 1.13; not run at full length here, expect hours):',
    'OUT=out/reference DEVICE=cpu PYTHON=/usr/bin/python3 THREADS=1 BUDGET_SEC=100000 bash .device/reference/run-on-device.sh',
    'node --import tsx scripts/reference/model-cards.ts   # after copying the .onnx files into models/<name>/model.onnx',
    '```',
    '',
    `The run's records (every run's metrics and console, the C search, the self-test) are in scripts/reference/results/h200-2000-steps/. ` +
      'GPU arithmetic is not bit-reproducible, so a rerun gives close but not identical weights.',
    '',
  ].join('\n');
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { provider: { type: 'string', default: 'cpu' } } });
  const search = await readJson<CSearch>(join(TRAINING_RESULTS, 'c-search.json'));
  const pytorch = await readJson<{ models: Record<string, { hypotheses: Record<string, string> }> }>(PYTORCH_TRANSCRIPTS);
  const consoleText = await readFile(join(TRAINING_RESULTS, 'device-console.txt'), 'utf8');
  const setFile = await readJson<{ setId: string; parameters: { perGroup: number; repetitions: number[]; holdout: number } }>(join(DEMO_CANARIES_DIR, 'canary-set.json'));
  const set = { setId: setFile.setId, perGroup: setFile.parameters.perGroup, repetitions: setFile.parameters.repetitions, holdout: setFile.parameters.holdout };
  const runs: Record<string, RunMetrics> = {};
  for (const variant of Object.values(search.variants)) {
    for (const candidate of variant.candidates) runs[candidate.name] = await readJson<RunMetrics>(join(TRAINING_RESULTS, 'runs', `${candidate.name}.metrics.json`));
  }
  const out = await mkdtemp(join(tmpdir(), 'rote-model-cards-'));
  try {
    const demo = await runDemo({ out, provider: values.provider as AuditProvider });
    const peer = await sherpaPeer(join(DEMO_MODELS_DIR, 'baseline'), DEMO_CANARIES_DIR);
    await writeFileAtomic(SHERPA_PEER, `${JSON.stringify(peer, null, 1)}\n`);
    for (const model of demo.models) {
      const run = search.chosen[model.name];
      if (!run) throw new Error(`${model.name}: not in ${TRAINING_RESULTS}/c-search.json's chosen runs`);
      const metrics = await readJson<RunMetrics>(join(TRAINING_RESULTS, 'runs', `${run}.metrics.json`));
      const hypotheses = pytorch.models[model.name]?.hypotheses;
      if (!hypotheses) throw new Error(`${model.name}: no PyTorch transcripts in ${PYTORCH_TRANSCRIPTS}`);
      const text = card({
        name: model.name,
        report: model.report,
        comparison: demo.comparison,
        metrics,
        search,
        runs,
        agreement: transcriptAgreement(model.report, hypotheses),
        onnxSha256: await sha256File(join(model.dir, 'model.onnx')),
        tokensSha256: await sha256File(join(model.dir, 'tokens.txt')),
        console: consoleText,
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
