/**
 * Canary texts, counts and audio that cannot be used are refused where they enter (issue 21, items 2-5
 * and 10): import-canaries names the list's file and line, the set readers the file and field, the
 * audit refuses a text with nothing to score before transcribing, check-canaries counts it infeasible,
 * and inject's Kaldi writer refuses a field that would break a line. Each test failed before the fix.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  importCanarySet,
  makeCanaryTexts,
  readCanarySet,
  readTrainingCanaries,
  type CanarySet,
} from '../../src/canary/index.ts';
import { canarySetDocuments } from '../../src/canary/canonical.ts';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { audit, checkCanaries } from '../../src/audit/index.ts';
import { injectCanaries } from '../../src/manifest/index.ts';
import { copyFixture, temporaryDir, toneSamples, writeTestSet } from '../manifest/helpers.ts';
import { rejectsWithRoteError } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CTC_MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
const { WaveFile } = createRequire(import.meta.url)('wavefile') as {
  WaveFile: new () => {
    fromScratch(channels: number, rate: number, depth: string, samples: ArrayLike<number>): void;
    toBuffer(): Uint8Array;
  };
};

interface ListRow {
  id: string;
  text: string;
  repetitions: number | string | null;
  audio: string;
}

/** Writes tone WAVs a.wav, b.wav, ... and a JSON-lines list of `rows` (audio filled in) in `dir`; returns the list. */
async function writeList(dir: string, rows: Omit<ListRow, 'audio'>[], name = 'list.jsonl'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (const [index, row] of rows.entries()) {
    const audio = `w${index}.wav`;
    await writeFile(join(dir, audio), encodeWav16(toneSamples(index, 16000), 16000));
    lines.push(JSON.stringify({ ...row, audio }));
  }
  await writeFile(join(dir, name), `${lines.join('\n')}\n`);
  return join(dir, name);
}

const GOOD: Omit<ListRow, 'audio'>[] = [
  { id: 'a', text: 'velvet anchor orbit', repetitions: 1 },
  { id: 'b', text: 'marble tundra quiver', repetitions: 2 },
  { id: 'c', text: 'hollow ember cactus', repetitions: null },
  { id: 'd', text: 'pepper glacier harbor', repetitions: null },
];

/** GOOD with row `index` replaced by `row`. */
const withRow = (index: number, row: Partial<Omit<ListRow, 'audio'>>) =>
  GOOD.map((original, i) => (i === index ? { ...original, ...row } : original));

/** The test set of test/manifest/helpers with its canaries edited by `edit`; setId recomputed, so rote's readers take it. */
async function writeSetWithTexts(dir: string, edit: (canaries: CanarySet['canaries']) => void): Promise<CanarySet> {
  const { set } = await writeTestSet(dir);
  edit(set.canaries);
  const documents = canarySetDocuments(set.parameters, set.canaries, set.parameters.sampleRate);
  await writeFile(join(dir, 'canary-set.json'), JSON.stringify(documents.set, null, 2));
  await writeFile(join(dir, 'for-training', 'canaries.json'), JSON.stringify(documents.training, null, 2));
  return documents.set;
}

test('import-canaries refuses a text with nothing to score (punctuation, emoji) at its line', async () => {
  const { dir, cleanup } = await temporaryDir('canary-unscorable');
  try {
    for (const [text, line] of [
      ['?!...', 2],
      ['\u{1F642} \u{1F389}', 3],
      ['\u2014 \u00BF', 4],
    ] as const) {
      const list = await writeList(dir, withRow(line - 1, { text }));
      const out = join(dir, 'out');
      await rejectsWithRoteError(
        () => importCanarySet({ list, out }),
        new RegExp(`list\\.jsonl:${line}: the text .* has nothing to score`),
      );
      assert.not.ok(existsSync(out), 'nothing written');
    }
  } finally {
    await cleanup();
  }
});

test('import-canaries refuses a text with a line break or tab (JSON lines can hold one) at its line', async () => {
  const { dir, cleanup } = await temporaryDir('canary-linebreak');
  try {
    for (const text of ['velvet\nanchor orbit', 'velvet anchor\torbit', 'velvet\ranchor', 'velvet\u2028anchor']) {
      const list = await writeList(dir, withRow(1, { text }));
      await rejectsWithRoteError(
        () => importCanarySet({ list, out: join(dir, 'out') }),
        /list\.jsonl:2: the text .* contains a line break or tab/s,
      );
    }
  } finally {
    await cleanup();
  }
});

test('import-canaries refuses two texts that read the same after the audit normalization, naming both lines', async () => {
  const { dir, cleanup } = await temporaryDir('canary-duplicate');
  try {
    const heldOutLikeInserted = await writeList(dir, withRow(2, { text: 'Velvet, ANCHOR   orbit!' }));
    const message = await rejectsWithRoteError(
      () => importCanarySet({ list: heldOutLikeInserted, out: join(dir, 'out') }),
      /list\.jsonl:3: the text "Velvet, ANCHOR {3}orbit!" reads the same as .*list\.jsonl:1's "velvet anchor orbit"/,
    );
    assert.match(message, /contaminating the held-out group/);
    const twoInserted = await writeList(dir, withRow(1, { text: 'Velvet anchor-orbit.' }));
    assert.match(
      await rejectsWithRoteError(
        () => importCanarySet({ list: twoInserted, out: join(dir, 'out') }),
        /list\.jsonl:2: .* reads the same as .*list\.jsonl:1's/,
      ),
      /one text would be trained on 3 times/,
    );
  } finally {
    await cleanup();
  }
});

test("import-canaries bounds repetitions as generate's --repetitions (1e11 made inject hang)", async () => {
  const { dir, cleanup } = await temporaryDir('canary-bounds');
  try {
    for (const repetitions of [1e11, '100000000000', 1_000_001]) {
      const list = await writeList(dir, withRow(1, { repetitions }));
      await rejectsWithRoteError(
        () => importCanarySet({ list, out: join(dir, 'out') }),
        /list\.jsonl:2: repetitions must be an integer from 1 to 1000000 \(as generate's --repetitions\)/,
      );
    }
  } finally {
    await cleanup();
  }
});

test('import-canaries refuses NaN, infinite or clipped float samples, silence and an unusable rate, naming the WAV', async () => {
  const { dir, cleanup } = await temporaryDir('canary-audio');
  try {
    const floatWav = (samples: number[], rate = 16000) => {
      const wave = new WaveFile();
      wave.fromScratch(1, rate, '32f', samples);
      return wave.toBuffer();
    };
    const speech = Array.from(toneSamples(5, 16000));
    const cases: [Uint8Array, RegExp][] = [
      [
        floatWav(speech.map((v, i) => (i === 100 ? NaN : v))),
        /w1\.wav holds a sample that is not a finite number \(NaN at sample 100\)/,
      ],
      [floatWav(speech.map((v, i) => (i === 7 ? -Infinity : v))), /not a finite number \(-Infinity at sample 7\)/],
      [floatWav(speech.map((v) => v * 4)), /w1\.wav holds \d+ samples beyond full scale \[-1, 1\]/],
      [encodeWav16(new Float32Array(16000), 16000), /w1\.wav: the audio is silent \(peak 0\.0e\+0, below 0\.001\)/],
      [encodeWav16(new Float32Array(16000).fill(1e-4), 16000), /the audio is silent/],
      [
        encodeWav16(toneSamples(1, 96000), 96000),
        /w1\.wav is at 96000 Hz; a canary set's rate must be an integer from 8000 to 48000/,
      ],
    ];
    for (const [bytes, expected] of cases) {
      const list = await writeList(dir, GOOD);
      await writeFile(join(dir, 'w1.wav'), bytes);
      await rejectsWithRoteError(() => importCanarySet({ list, out: join(dir, 'out') }), expected);
    }
    // The same list with good audio imports.
    const list = await writeList(dir, GOOD);
    const result = await importCanarySet({ list, out: join(dir, 'out') });
    assert.is(result.set.canaries.length, 4);
  } finally {
    await cleanup();
  }
});

test('generate refuses a word list whose words read the same after normalization (one text twice)', () => {
  const words = ['velvet', 'anchor', 'Velvet', 'orbit', 'crimson'];
  assert.throws(
    () => makeCanaryTexts({ count: 3, wordsPerCanary: 2, words, seed: 's', source: 'words.txt' }),
    (error: Error) => /words\.txt: the words "velvet" and "Velvet" read the same/.test(error.message),
  );
  assert.throws(
    () => makeCanaryTexts({ count: 3, wordsPerCanary: 2, words: ['...', 'velvet', 'anchor'], seed: 's' }),
    (error: Error) => /the word "\.\.\." has nothing to score/.test(error.message),
  );
  assert.is(
    makeCanaryTexts({ count: 3, wordsPerCanary: 2, words: words.slice(0, 2).concat(['orbit']), seed: 's' }).length,
    3,
  );
});

test("canary-set files: counts beyond the options' ranges are refused naming the file and field", async () => {
  const { dir, cleanup } = await temporaryDir('canary-set-bounds');
  try {
    await writeSetWithTexts(join(dir, 'big'), (canaries) => (canaries[0]!.repetitions = 1e11));
    await rejectsWithRoteError(
      () => readCanarySet(join(dir, 'big')),
      /canary-set\.json: canaries\[0\]\.repetitions: expected an integer from 1 to 1000000 \(as generate's --repetitions\), got 100000000000/,
    );
    await rejectsWithRoteError(
      () => readTrainingCanaries(join(dir, 'big')),
      /for-training\/canaries\.json: canaries\[0\]\.repetitions: expected an integer from 1 to 1000000/,
    );
    const training = join(dir, 'big', 'for-training', 'canaries.json');
    const list = JSON.parse(await readFile(training, 'utf8'));
    await writeFile(training, JSON.stringify({ ...list, canaries: list.canaries.slice(1), sampleRate: 1e9 }));
    await rejectsWithRoteError(
      () => readTrainingCanaries(join(dir, 'big')),
      /canaries\.json: sampleRate: expected an integer from 8000 to 48000 \(as generate's --sample-rate\)/,
    );
  } finally {
    await cleanup();
  }
});

test('a set with a text that has nothing to score: check-canaries counts it infeasible, audit refuses it before transcribing', async () => {
  const { dir, cleanup } = await temporaryDir('canary-unscorable-audit');
  try {
    const set = join(dir, 'set');
    await writeSetWithTexts(set, (canaries) => (canaries[3]!.text = '?! \u{1F642}'));
    const check = await checkCanaries({ canaries: set, model: CTC_MODEL, provider: 'cpu' });
    const unscorable = check.canaries.find((c) => c.unscorable)!;
    assert.ok(unscorable, 'the canary is marked');
    assert.is(unscorable.budget.feasible, false);
    assert.is(check.unscorable, 1);
    assert.ok(check.infeasible >= 1);
    const cli = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/rote.js'), 'check-canaries', '--canaries', set, '--model', CTC_MODEL, '--provider', 'cpu'],
      { encoding: 'utf8' },
    );
    assert.match(cli.stdout, /1 has a text with nothing to score/);
    const out = join(dir, 'audit');
    await rejectsWithRoteError(
      () => audit({ canaries: set, model: CTC_MODEL, provider: 'cpu', out }),
      /canary-set\.json: canaries\[3\]\.text "\?! \u{1F642}" has nothing to score/u,
    );
    assert.not.ok(existsSync(out), 'refused before anything was written');
  } finally {
    await cleanup();
  }
});

test('inject into a Kaldi dir refuses a canary text or an --audio-dir with a line break (wav.scp and text stay one record a line)', async () => {
  const { dir, cleanup } = await temporaryDir('canary-kaldi-linebreak');
  try {
    const kaldi = join(await copyFixture('kaldi', dir), 'train');
    const good = join(dir, 'good');
    await writeTestSet(good);
    const brokenAudioDir = join(dir, 'wav\nx');
    const out = join(dir, 'out-a');
    await rejectsWithRoteError(
      () => injectCanaries({ manifests: [kaldi], canaries: good, output: out, audioDir: brokenAudioDir }),
      /wav\.scp: canary \w+'s wav\.scp entry .* contains a line break or tab, which a Kaldi table .* cannot hold; choose an --audio-dir without one/,
    );
    assert.not.ok(existsSync(out), 'no output');
    const bad = join(dir, 'bad');
    await writeSetWithTexts(bad, (canaries) => (canaries[0]!.text = 'velvet anchor\norbit'));
    await rejectsWithRoteError(
      () => injectCanaries({ manifests: [kaldi], canaries: bad, output: join(dir, 'out-b'), audioDir: join(dir, 'w') }),
      /text: canary \w+'s text entry "velvet anchor\\norbit" contains a line break/i,
    );
    assert.not.ok(existsSync(join(dir, 'out-b')), 'no output');
  } finally {
    await cleanup();
  }
});

test.run();
