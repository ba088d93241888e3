/**
 * Builds the reference training corpus: grammar sentences (grammar.ts) spoken by
 * rote's own TTS path (espeak-ng wasm worker pool, src/canary), resampled to
 * 16 kHz, trailing silence trimmed to 0.1 s, written as 16-bit WAVs with NeMo
 * JSONL manifests and the corpus's word list (for `rote generate --exclude-words`).
 *
 *   node --import tsx scripts/reference/corpus.ts --out .cache/reference/corpus
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeMany } from '../../src/canary/synthesis-pool.ts';
import { DEFAULT_VOICES } from '../../src/canary/voices.ts';
import { SeededRandom } from '../../src/util/random.ts';
import { resample } from '../../src/audio/resample.ts';
import { encodeWav16 } from '../../src/util/wav.ts';
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

async function main(): Promise<void> {
  const out = resolve(values.out!);
  const trainCount = Number(values.train);
  const devCount = Number(values.dev);
  const voices = values.voices!.split(',');
  const rates = values.rates!.split(',').map(Number);
  const sentences = generateSentences({
    count: trainCount + devCount, seed: values.seed!, minWords: Number(values['min-words']), maxWords: Number(values['max-words']),
  });
  const random = new SeededRandom(values.seed!).fork('voices');
  const items = sentences.map((text) => ({ text, voice: voices[random.nextInt(voices.length)]!, rate: rates[random.nextInt(rates.length)]!, pitch: 40 + random.nextInt(21) }));
  const started = Date.now();
  const speech = await synthesizeMany(items, {
    concurrency: Number(values.concurrency),
    onProgress: (done, total) => { if (done % 250 === 0 || done === total) process.stderr.write(`synthesized ${done}/${total}\n`); },
  });
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'audio'), { recursive: true });
  const lines: { train: string[]; dev: string[] } = { train: [], dev: [] };
  const details: object[] = [];
  let totalSec = 0;
  for (let i = 0; i < items.length; i++) {
    const split = i < trainCount ? 'train' : 'dev';
    const id = `${split}-${String(i).padStart(5, '0')}`;
    const samples = trimTrailingSilence(resample(speech[i]!.samples, speech[i]!.sampleRate, SAMPLE_RATE), SAMPLE_RATE);
    const path = join(out, 'audio', `${id}.wav`);
    await writeFile(path, encodeWav16(samples, SAMPLE_RATE));
    const duration = Number((samples.length / SAMPLE_RATE).toFixed(4));
    totalSec += duration;
    lines[split].push(JSON.stringify({ audio_filepath: path, duration, text: items[i]!.text }));
    details.push({ id, ...items[i], duration });
  }
  await writeFile(join(out, 'train_manifest.json'), lines.train.join('\n') + '\n');
  await writeFile(join(out, 'dev_manifest.json'), lines.dev.join('\n') + '\n');
  const words = [...new Set(sentences.flatMap((s) => s.split(' ')))].sort();
  await writeFile(join(out, 'corpus-words.txt'), words.join('\n') + '\n');
  const chars = sentences.reduce((n, s) => n + s.length, 0);
  const summary = {
    seed: values.seed, train: trainCount, dev: devCount, voices, rates, pitch: '40..60', sampleRate: SAMPLE_RATE,
    words: words.length, totalAudioSec: Math.round(totalSec), meanSec: Number((totalSec / items.length).toFixed(3)),
    charsPerSec: Number((chars / totalSec).toFixed(2)), synthesisSec: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(join(out, 'corpus.json'), JSON.stringify({ ...summary, utterances: details }, null, 1) + '\n');
  console.log(JSON.stringify(summary));
}

await main();
