/**
 * Builds the reference training corpus: grammar sentences (grammar.ts) spoken by
 * rote's own TTS path (espeak-ng wasm worker pool, src/canary), resampled to
 * 16 kHz, trailing silence trimmed to 0.1 s, written as 16-bit WAVs with NeMo
 * JSONL manifests and the corpus's word list (for `rote generate --exclude-words`).
 *
 *   node --import tsx scripts/reference/corpus.ts --out .cache/reference/corpus
 *
 * `--jobs N` (N > 1) splits the utterances over N child processes (utterance i
 * goes to process i mod N, each with one synthesis worker): the main thread's
 * resampling and WAV writing cost more than the synthesis itself, so one process
 * with many workers does not scale. The output does not depend on N.
 * (`--shard K/N` is how the parent starts a child.)
 *
 * `--skip K` draws the same sentence stream but speaks only the sentences after
 * the first K: with `--train T --dev D --skip T+D'` it makes a further dev set
 * (ids dev-<index>) that continues the corpus of `--train T --dev D'` with new,
 * never-trained sentences (build-data.sh's evaluation set).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SpeechSynthesisPool } from '../../src/canary/synthesis-pool.ts';
import { DEFAULT_VOICES } from '../../src/canary/voices.ts';
import { SeededRandom } from '../../src/util/random.ts';
import { resample } from '../../src/audio/resample.ts';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { generateSentences } from './grammar.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '.cache/reference/corpus' },
    train: { type: 'string', default: '1500' },
    dev: { type: 'string', default: '150' },
    seed: { type: 'string', default: 'rote-reference-corpus-1' },
    voices: { type: 'string', default: DEFAULT_VOICES.join(',') },
    rates: { type: 'string', default: '150,165,180' },
    'min-words': { type: 'string', default: '4' },
    'max-words': { type: 'string', default: '9' },
    concurrency: { type: 'string', default: '2' },
    jobs: { type: 'string', default: '1' },
    shard: { type: 'string' },
    skip: { type: 'string', default: '0' },
  },
});

const SAMPLE_RATE = 16000;
const KEEP_TRAILING_SEC = 0.1;
const SILENCE = 0.01;

/** Cuts espeak's ~0.3-0.4 s of trailing silence down to KEEP_TRAILING_SEC (smaller feature store). */
function trimTrailingSilence(samples: Float32Array, sampleRate: number): Float32Array {
  let last = samples.length - 1;
  while (last > 0 && Math.abs(samples[last]!) < SILENCE) last--;
  return samples.subarray(0, Math.min(samples.length, last + 1 + Math.round(KEEP_TRAILING_SEC * sampleRate)));
}

interface Item {
  text: string;
  voice: string;
  rate: number;
  pitch: number;
}

const trainCount = Number(values.train);
const devCount = Number(values.dev);
/** The first `skip` sentences of the stream are drawn (so the rest stay unique against them) but not spoken or written. */
const skipCount = Number(values.skip);
for (const [flag, value, least] of [
  ['--train', trainCount, 0],
  ['--dev', devCount, 0],
  ['--skip', skipCount, 0],
] as const) {
  if (!Number.isInteger(value) || value < least) {
    console.error(`corpus.ts: ${flag} must be a whole number >= ${least}, got '${values[flag.slice(2) as 'train']}'`);
    process.exit(2);
  }
}
if (skipCount >= trainCount + devCount) {
  console.error(`corpus.ts: --skip ${skipCount} leaves nothing to speak of --train ${trainCount} + --dev ${devCount}`);
  process.exit(2);
}
const out = resolve(values.out!);
const idOf = (i: number) => `${i < trainCount ? 'train' : 'dev'}-${String(i).padStart(5, '0')}`;

function makeItems(): { sentences: string[]; items: Item[] } {
  const voices = values.voices!.split(',');
  const rates = values.rates!.split(',').map(Number);
  const sentences = generateSentences({
    count: trainCount + devCount,
    seed: values.seed!,
    minWords: Number(values['min-words']),
    maxWords: Number(values['max-words']),
  });
  const random = new SeededRandom(values.seed!).fork('voices');
  const items = sentences.map((text) => ({
    text,
    voice: voices[random.nextInt(voices.length)]!,
    rate: rates[random.nextInt(rates.length)]!,
    pitch: 40 + random.nextInt(21),
  }));
  return { sentences, items };
}

/**
 * Speaks items[i] for each i in `indices` and writes audio/<id>.wav as each one
 * arrives (resampling and writing overlap the workers' synthesis); returns the durations.
 */
async function render(
  items: Item[],
  indices: number[],
  concurrency: number,
  progressEvery: number,
): Promise<Map<number, number>> {
  const durations = new Map<number, number>();
  if (indices.length === 0) return durations;
  const pool = await SpeechSynthesisPool.start(Math.min(concurrency, indices.length));
  try {
    await Promise.all(
      indices.map(async (i) => {
        const speech = await pool.synthesize(items[i]!.text, items[i]!);
        const samples = trimTrailingSilence(resample(speech.samples, speech.sampleRate, SAMPLE_RATE), SAMPLE_RATE);
        await writeFile(join(out, 'audio', `${idOf(i)}.wav`), encodeWav16(samples, SAMPLE_RATE));
        durations.set(i, Number((samples.length / SAMPLE_RATE).toFixed(4)));
        if (durations.size % progressEvery === 0 || durations.size === indices.length)
          process.stderr.write(
            `${values.shard ? `shard ${values.shard}: ` : ''}synthesized ${durations.size}/${indices.length}\n`,
          );
      }),
    );
  } finally {
    await pool.close();
  }
  return durations;
}

/** Runs this script once per shard in child processes (same arguments, same tsx loader). */
async function renderInChildren(total: number, jobs: number): Promise<Map<number, number>> {
  const script = fileURLToPath(import.meta.url);
  const passThrough = process.argv.slice(2);
  await Promise.all(
    Array.from(
      { length: jobs },
      (_, k) =>
        new Promise<void>((done, fail) => {
          const child = spawn(
            process.execPath,
            [
              ...process.execArgv,
              script,
              ...passThrough,
              '--jobs',
              '1',
              '--concurrency',
              '1',
              '--shard',
              `${k}/${jobs}`,
            ],
            { stdio: ['ignore', 'inherit', 'inherit'] },
          );
          child.on('error', fail);
          child.on('exit', (code, signal) =>
            code === 0 ? done() : fail(new Error(`corpus shard ${k}/${jobs} failed (${signal ?? `exit ${code}`})`)),
          );
        }),
    ),
  );
  const durations = new Map<number, number>();
  for (let k = 0; k < jobs; k++) {
    const file = join(out, `.shard-${k}.json`);
    for (const [i, duration] of JSON.parse(await readFile(file, 'utf8')) as [number, number][])
      durations.set(i, duration);
    await rm(file);
  }
  if (durations.size !== total) throw new Error(`the shards wrote ${durations.size} of ${total} utterances`);
  return durations;
}

async function main(): Promise<void> {
  const { sentences, items } = makeItems();
  const jobs = Math.max(1, Number(values.jobs));
  if (values.shard) {
    // A child: speak and write this shard's utterances, report their durations to the parent.
    const [k, n] = values.shard.split('/').map(Number) as [number, number];
    const indices = items.map((_, i) => i).filter((i) => i >= skipCount && i % n === k);
    const durations = await render(items, indices, Number(values.concurrency), 1000);
    await writeFile(join(out, `.shard-${k}.json`), JSON.stringify([...durations]));
    return;
  }
  const started = Date.now();
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'audio'), { recursive: true });
  const durations =
    jobs > 1
      ? await renderInChildren(items.length - skipCount, jobs)
      : await render(
          items,
          items.map((_, i) => i).filter((i) => i >= skipCount),
          Number(values.concurrency),
          250,
        );
  const synthesisSec = (Date.now() - started) / 1000;
  const lines: { train: string[]; dev: string[] } = { train: [], dev: [] };
  const details: object[] = [];
  let totalSec = 0;
  for (let i = skipCount; i < items.length; i++) {
    const split = i < trainCount ? 'train' : 'dev';
    const id = idOf(i);
    const path = join(out, 'audio', `${id}.wav`);
    const duration = durations.get(i)!;
    totalSec += duration;
    lines[split].push(JSON.stringify({ audio_filepath: path, duration, text: items[i]!.text }));
    details.push({ id, ...items[i], duration });
  }
  const spoken = sentences.slice(skipCount);
  await writeFile(join(out, 'train_manifest.json'), lines.train.join('\n') + '\n');
  await writeFile(join(out, 'dev_manifest.json'), lines.dev.join('\n') + '\n');
  const words = [...new Set(sentences.flatMap((s) => s.split(' ')))].sort();
  await writeFile(join(out, 'corpus-words.txt'), words.join('\n') + '\n');
  const chars = spoken.reduce((n, s) => n + s.length, 0);
  const summary = {
    seed: values.seed,
    train: trainCount,
    dev: devCount,
    skip: skipCount,
    voices: values.voices!.split(','),
    rates: values.rates!.split(',').map(Number),
    pitch: '40..60',
    sampleRate: SAMPLE_RATE,
    words: words.length,
    totalAudioSec: Math.round(totalSec),
    meanSec: Number((totalSec / spoken.length).toFixed(3)),
    charsPerSec: Number((chars / totalSec).toFixed(2)),
    synthesisSec: Math.round(synthesisSec),
    jobs,
    utterancesPerSec: Number((spoken.length / Math.max(0.001, synthesisSec)).toFixed(1)),
  };
  await writeFile(join(out, 'corpus.json'), JSON.stringify({ ...summary, utterances: details }, null, 1) + '\n');
  console.log(JSON.stringify(summary));
}

await main();
