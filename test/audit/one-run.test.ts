/**
 * The one-run ε audit end to end on real data: generate --membership bernoulli
 * (small, shared by every test here), inject its for-training part into a NeMo
 * manifest, verify it, and audit the random-weight CTC test model, which never
 * saw the canaries: its AUC intervals cover 0.5 and ε̂ is near 0. Then the same
 * canaries, listed as if made elsewhere, through rote import-canaries.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, readdir, writeFile, copyFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateCanarySet,
  importCanarySet,
  readCanarySet,
  readTrainingCanaries,
  resolveGenerateOptions,
  verifyCanaryAudio,
} from '../../src/canary/index.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { RoteError } from '../../src/util/errors.ts';
import { injectCanaries, verifyInjection } from '../../src/manifest/index.ts';
import { audit, compare, validateReport } from '../../src/audit/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
let work = '';
let set = '';

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rote-one-run-'));
  set = join(work, 'set');
  await generateCanarySet({
    out: set,
    seed: 'one-run-e2e',
    words: 3,
    membership: 'bernoulli',
    candidates: 40,
    speed: 2.5,
    concurrency: 1,
  });
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('generate --membership bernoulli: each candidate in once or not at all, for-training holds only the drawn ones', async () => {
  const canaries = await readCanarySet(set);
  assert.is(canaries.parameters.membership, 'bernoulli');
  assert.is(canaries.parameters.candidates, 40);
  assert.is(canaries.canaries.length, 40);
  assert.ok(canaries.canaries.every((c) => c.repetitions === 1 || c.repetitions === null));
  const drawnIn = canaries.canaries.filter((c) => c.repetitions === 1);
  assert.ok(drawnIn.length > 10 && drawnIn.length < 30, `${drawnIn.length} of 40 drawn in`);
  assert.is(canaries.parameters.perGroup, drawnIn.length);
  assert.is(canaries.parameters.holdout, 40 - drawnIn.length);
  const training = await readTrainingCanaries(set);
  assert.equal(training.canaries.map((c) => c.id).sort(), drawnIn.map((c) => c.id).sort());
  assert.ok(training.canaries.every((c) => c.repetitions === 1));
  assert.is((await readdir(join(set, 'for-training', 'audio'))).length, drawnIn.length);
  // The draw comes from the seed: another seed draws another key.
  const again = resolveGenerateOptions({ out: 'x', membership: 'bernoulli', candidates: 40 });
  assert.is(again.candidates, 40);
  assert.throws(
    () => resolveGenerateOptions({ out: 'x', membership: 'bernoulli', perGroup: 4 }),
    /^perGroup cannot be used with membership bernoulli/,
  );
  assert.throws(
    () => resolveGenerateOptions({ out: 'x', candidates: 40 }),
    /^candidates applies only to membership bernoulli/,
  );
  assert.throws(
    () => resolveGenerateOptions({ out: 'x', membership: 'bernoulli', candidates: 5 }),
    /^candidates must be an integer from 10/,
  );
});

test('rote generate --membership bernoulli through the CLI: a design too small for a meaningful ε̂ is warned about', () => {
  const out = join(work, 'tiny');
  const cli = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bin/rote.js'),
      'generate',
      '--out',
      out,
      '--membership',
      'bernoulli',
      '--candidates',
      '10',
      '--words',
      '2',
      '--concurrency',
      '1',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.is(cli.status, 0, cli.stderr);
  const summary = JSON.parse(cli.stdout);
  assert.is(summary.membership, 'bernoulli');
  assert.is(summary.canaries, 10);
  assert.ok(
    summary.warnings.some((w: string) =>
      /with 10 candidates the largest epsilon lower bound even a perfect membership attack could give is 0\.\d\d/.test(
        w,
      ),
    ),
    JSON.stringify(summary.warnings),
  );
  const mixed = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bin/rote.js'),
      'generate',
      '--out',
      join(work, 'mixed'),
      '--membership',
      'bernoulli',
      '--repetitions',
      '1,2',
    ],
    { encoding: 'utf8' },
  );
  assert.is(mixed.status, 2);
  assert.match(mixed.stderr, /--repetitions cannot be used with --membership bernoulli/);
});

test('inject and verify work on a bernoulli set (each drawn canary once, no left-out canary leaks)', async () => {
  const manifest = join(work, 'train-with-canaries.json');
  const receipt = await injectCanaries({
    manifests: [join(ROOT, 'test/fixtures/manifests/nemo/train_manifest.json')],
    canaries: set,
    output: manifest,
    audioDir: join(work, 'wav'),
    sampleRate: 16000,
  });
  const drawnIn = (await readCanarySet(set)).canaries.filter((c) => c.repetitions === 1).length;
  assert.is(receipt.canarySet.copies, drawnIn);
  const report = await verifyInjection({ manifests: [manifest], canaries: set });
  assert.ok(report.ok, JSON.stringify({ leaks: report.leaks, countMismatches: report.countMismatches }));
  assert.is(report.inserted.length, drawnIn);
  assert.ok(report.inserted.every((c) => c.found === 1));
  const texts = (await readFile(manifest, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line).text as string);
  for (const canary of (await readCanarySet(set)).canaries)
    assert.is(texts.filter((t) => t === canary.text).length, canary.repetitions ?? 0);
});

test('audit of the untrained test model: AUC interval covers 0.5, ε̂ near 0, report valid', async () => {
  const out = join(work, 'audit');
  const report = await audit({ canaries: set, model: CTC_MODEL, out, provider: 'cpu', bootstrapResamples: 300 });
  validateReport(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
  assert.is(report.canarySet.membership, 'bernoulli');
  const pooled = report.membershipInference.groups[0]!;
  assert.is(report.membershipInference.score, 'modelScore');
  assert.ok(pooled.auc.low < 0.5 && pooled.auc.high > 0.5, JSON.stringify(pooled.auc));
  const e = report.epsilon!;
  assert.is(e.candidates, 40);
  assert.ok(e.epsilon < 0.3, `ε̂ ${e.epsilon}`);
  assert.ok(e.maximumEpsilon > 0.5, `the design could show up to ${e.maximumEpsilon}`);
  const markdown = await readFile(join(out, 'report.md'), 'utf8');
  assert.match(markdown, /## One-run ε lower bound/);
  assert.match(await readFile(join(out, 'report.html'), 'utf8'), /id="chart-roc-log"/);
  // δ and confidence reach the report.
  const strict = await audit({
    canaries: set,
    model: CTC_MODEL,
    out,
    provider: 'cpu',
    bootstrapResamples: 300,
    delta: 1e-6,
    epsilonConfidence: 0.99,
  });
  assert.is(strict.epsilon!.delta, 1e-6);
  assert.is(strict.epsilon!.confidence, 0.99);
  let error: unknown = null;
  await audit({ canaries: set, model: CTC_MODEL, provider: 'cpu', delta: 2 }).catch((caught) => (error = caught));
  assert.match(String(error), /\bdelta must be at least 0 and below 1, got 2/);
});

/** The generated canaries as another tool's list: its own ids, relative WAV paths, sha256 of the files. */
async function writeList(
  kind: 'tsv' | 'jsonl',
  edit: (rows: string[][]) => string[][] = (rows) => rows,
): Promise<string> {
  const canaries = (await readCanarySet(set)).canaries;
  const rows = await Promise.all(
    canaries.map(async (c, i) => [
      `study_${String(i).padStart(3, '0')}`,
      c.text,
      c.repetitions === null ? 'held-out' : String(c.repetitions),
      c.audio,
      sha256Hex(await readFile(join(set, c.audio))),
    ]),
  );
  const edited = edit(rows);
  const path = join(set, `list-${kind}-${Math.random().toString(36).slice(2)}.${kind}`);
  const text =
    kind === 'tsv'
      ? ['id\ttext\trepetitions\taudio\tsha256', ...edited.map((row) => row.join('\t'))].join('\n')
      : edited
          .map(([id, text, repetitions, audio, sha256]) =>
            JSON.stringify({
              id,
              text,
              repetitions: repetitions === 'held-out' ? null : Number(repetitions),
              audio,
              sha256,
            }),
          )
          .join('\n');
  await writeFile(path, `${text}\n`);
  return path;
}

async function importError(options: Parameters<typeof importCanarySet>[0]): Promise<string> {
  try {
    await importCanarySet(options);
  } catch (error) {
    assert.instance(error, RoteError);
    return (error as Error).message;
  }
  throw new Error('expected the import to fail');
}

test('import-canaries: a TSV list becomes a regular set with provenance; the audit and ε path give the same answers', async () => {
  const list = await writeList('tsv');
  const out = join(work, 'imported');
  const result = await importCanarySet({ list, out, membership: 'bernoulli', speed: 2.5 });
  const original = await readCanarySet(set);
  const imported = await readCanarySet(out);
  await verifyCanaryAudio(out, imported);
  assert.equal(imported.parameters.imported, {
    list: list.split('/').pop()!,
    listSha256: sha256Hex(await readFile(list)),
  });
  assert.is(imported.parameters.membership, 'bernoulli');
  assert.is(imported.canaries.length, 40);
  assert.ok(
    imported.canaries.every(
      (c) => /^[0-9a-f]{12}$/.test(c.id) && c.importedId!.startsWith('study_') && c.tts.engine === 'imported',
    ),
  );
  // Same texts with the same membership; the audio is the same samples.
  const key = (c: { text: string; repetitions: number | null }) => `${c.text}|${c.repetitions}`;
  assert.equal(imported.canaries.map(key).sort(), original.canaries.map(key).sort());
  const byText = new Map(original.canaries.map((c) => [c.text, c]));
  for (const c of imported.canaries) assert.is(c.sha256, byText.get(c.text)!.sha256);
  // for-training: the drawn canaries under opaque ids; the list's ids never reach it.
  const training = await readFile(join(result.trainingDir, 'canaries.json'), 'utf8');
  assert.not.match(training, /study_/);
  assert.is(JSON.parse(training).canaries.length, original.canaries.filter((c) => c.repetitions !== null).length);

  const fromGenerated = await audit({ canaries: set, model: CTC_MODEL, provider: 'cpu', bootstrapResamples: 300 });
  const fromImported = await audit({ canaries: out, model: CTC_MODEL, provider: 'cpu', bootstrapResamples: 300 });
  assert.is(fromImported.canarySet.origin, 'imported');
  assert.is(fromImported.epsilon!.epsilon, fromGenerated.epsilon!.epsilon);
  assert.equal(
    fromImported.epsilon!.grid.map((g) => [g.guessed, g.correct]),
    fromGenerated.epsilon!.grid.map((g) => [g.guessed, g.correct]),
  );
  assert.is(
    fromImported.membershipInference.groups[0]!.auc.estimate,
    fromGenerated.membershipInference.groups[0]!.auc.estimate,
  );
  assert.is(fromImported.verdict.sentence, fromGenerated.verdict.sentence);
  const comparison = await compare([fromImported, fromImported], { names: ['imported-a', 'imported-b'] });
  assert.is(comparison.canarySet.setId, imported.setId);
  assert.ok(
    comparison.pairs[0]!.primary.every((t) => t.finding === 'no-difference' || t.finding === 'cannot-reach-alpha'),
  );
});

test('import-canaries: JSON lines, a folder given apart from the list, the CLI', async () => {
  const list = await writeList('jsonl');
  const listDir = join(work, 'lists');
  await (await import('node:fs/promises')).mkdir(listDir, { recursive: true });
  const moved = join(listDir, 'canaries.jsonl');
  await copyFile(list, moved);
  const out = join(work, 'imported-jsonl');
  const cli = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/rote.js'), 'import-canaries', '--list', moved, '--audio-dir', set, '--out', out, '--json'],
    { encoding: 'utf8' },
  );
  assert.is(cli.status, 0, cli.stderr);
  const summary = JSON.parse(cli.stdout);
  assert.is(summary.canaries, 40);
  assert.is(summary.membership, 'groups');
  assert.equal(summary.repetitions, [1]);
  assert.is((await readCanarySet(out)).parameters.imported!.list, 'canaries.jsonl');
  // Without --audio-dir the paths are relative to the list's folder, where they are not.
  const missing = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/rote.js'), 'import-canaries', '--list', moved, '--out', join(work, 'nowhere')],
    { encoding: 'utf8' },
  );
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /canaries\.jsonl:1: audio .* cannot be read \(ENOENT\)/);
});

test('import-canaries: bad rows are errors naming the file and line; nothing is written', async () => {
  const out = join(work, 'bad');
  const cases: [(rows: string[][]) => string[][], RegExp][] = [
    [
      (rows) => rows.map((row, i) => (i === 3 ? [row[0]!, row[1]!, 'twice', row[3]!, row[4]!] : row)),
      /:5: repetitions must be a positive integer or held-out/,
    ],
    [
      (rows) => rows.map((row, i) => (i === 6 ? [row[0]!, row[1]!, row[2]!, row[3]!, '0'.repeat(64)] : row)),
      /:8: audio .* has sha256 [0-9a-f]{64}, the list says 0{64}/,
    ],
    [(rows) => [...rows, rows[2]!], /:42: id study_002 is listed again \(first on line 4\)/],
    [
      (rows) => rows.map((row, i) => (i === 0 ? [row[0]!, '', row[2]!, row[3]!, row[4]!] : row)),
      /:2: text is missing or empty/,
    ],
    [(rows) => rows.map((row) => [row[0]!, row[1]!, row[2]!, row[3]!]), /:2: 4 tab-separated fields, the header has 5/],
    [(rows) => rows.map((row) => [row[0]!, row[1]!, '1', row[3]!, row[4]!]), /no held-out canary listed/],
  ];
  for (const [edit, expected] of cases)
    assert.match(await importError({ list: await writeList('tsv', edit), out }), expected);
  assert.match(
    await importError({
      list: await writeList('tsv', (rows) =>
        rows.map((row, i) => (i === 1 ? [row[0]!, row[1]!, '4', row[3]!, row[4]!] : row)),
      ),
      out,
      membership: 'bernoulli',
    }),
    /:3: --membership bernoulli needs repetitions 1 or held-out/,
  );
  const header = join(work, 'header.tsv');
  await writeFile(header, 'id\ttranscript\trepetitions\twav\n');
  assert.match(await importError({ list: header, out }), /header\.tsv:1: the header row lacks columns text, audio/);
  // A WAV at another sample rate.
  const other = join(set, 'other-rate.wav');
  await writeFile(
    other,
    encodeWav16(
      new Float32Array(800).map((_, i) => 0.3 * Math.sin(i / 3)),
      8000,
    ),
  );
  assert.match(
    await importError({
      list: await writeList('tsv', (rows) =>
        rows.map((row, i) => (i === 5 ? [row[0]!, row[1]!, row[2]!, 'other-rate.wav', ''] : row)),
      ),
      out,
    }),
    /:7: audio .*other-rate\.wav is at 8000 Hz, line 2's at 16000 Hz/,
  );
  assert.is(
    (await readdir(work)).filter((name) => name.startsWith('bad') || name.startsWith('.bad')).length,
    0,
    'nothing half-written',
  );
});

test.run();
