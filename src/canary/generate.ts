/**
 * generateCanarySet: seeded texts -> groups -> TTS (worker threads) ->
 * speed-up (batched) -> 16-bit WAVs and the canary-set files, written through
 * canary-set.ts (a temporary sibling directory renamed into place at the end).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { explainWriteFailure, RoteError } from '../util/errors.ts';
import { sha256Hex } from '../util/hash.ts';
import { SeededRandom } from '../util/random.ts';
import { refuseOutputsOnInputs } from '../util/output-guard.ts';
import { deadTemporarySibling } from '../util/atomic.ts';
import { encodeWav16 } from '../audio/wav.ts';
import type { CanaryRecord, CanarySet, CanarySetParameters, TtsRecord } from './types.ts';
import { canaryId } from './canonical.ts';
import { checkCanarySetOutput, onlyCanarySetEntries, writeCanarySet, type CanarySetBuilder } from './canary-set.ts';
import { ESPEAK_ENGINE_NAME, ESPEAK_WASM_VERSION, type SynthesizedSpeech } from './espeak.ts';
import { synthesizeWithCommand } from './command-tts.ts';
import {
  RECOMMENDED_MIN_HOLDOUT,
  resolveGenerateOptions,
  type GenerateOptions,
  type ResolvedGenerateOptions,
} from './options.ts';
import { speedUpMany } from './speedup.ts';
import { defaultConcurrency, SpeechSynthesisPool } from './synthesis-pool.ts';
import { makeCanaryTexts } from './text.ts';
import { isExcluded, loadExcludedWords, loadWordList } from './words.ts';
import { canaryLanguage, languageWordlistPath } from './languages.ts';
import { characterRate, speakingRateWarnings, type CharacterRate } from './speaking-rate.ts';

export interface GenerateResult {
  set: CanarySet;
  /** Absolute path of the canary-set directory. */
  dir: string;
  /** dir/canary-set.json */
  setPath: string;
  /** dir/for-training */
  trainingDir: string;
  /** dir/for-training/canaries.json */
  trainingListPath: string;
  /** Human-readable cautions (e.g. a small held-out group). */
  warnings: string[];
  /** Characters of the normalized texts per second of the sped-up audio (what a model's output frame rate must exceed). */
  charactersPerSecond: CharacterRate;
  /** Wall-clock seconds (not stored in the set). */
  seconds: number;
  /** True when no seed was given and one was drawn from a cryptographic source (recorded in canary-set.json only). */
  seedDrawn: boolean;
}

/** Canaries per ffmpeg process; also the unit of pipelining. */
const BATCH_SIZE = 16;
/** Batches in flight at once: one synthesizing while another is sped up. */
const BATCHES_IN_FLIGHT = 3;

interface PlannedCanary {
  id: string;
  text: string;
  repetitions: number | null;
  voice: string;
}

/**
 * Removes the temporary folders (`.OUT.tmp-PID-*`) that interrupted runs of generate for the same --out
 * left next to it, when their process is gone and they hold nothing but canary-set files; returns their paths.
 */
export async function removeStaleTemporaries(out: string): Promise<string[]> {
  const parent = dirname(out);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (deadTemporarySibling(name)?.target !== basename(out)) continue;
    const path = join(parent, name);
    try {
      if (!(await stat(path)).isDirectory()) continue;
      if (!onlyCanarySetEntries(await readdir(path))) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Another run may be removing it at the same time.
    }
  }
  return removed;
}

/** Seconds of speech per letter below which TTS output is implausibly short (no voice speaks 60 letters a second). */
export const MIN_SECONDS_PER_LETTER = 1 / 60;
/** Peak amplitude below which TTS output counts as silence (about -60 dBFS). */
export const SILENCE_PEAK = 1e-3;

/** "the audio is silent (...)" when the peak of `samples` is below SILENCE_PEAK, else null. */
export function silentAudio(samples: Float32Array): string | null {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]!));
  return peak >= SILENCE_PEAK ? null : `the audio is silent (peak ${peak.toExponential(1)}, below ${SILENCE_PEAK})`;
}

/** Why `samples` (TTS output for `text`) cannot be a canary, or null when it is plausible speech. */
export function implausibleSpeech(text: string, samples: Float32Array, sampleRate: number): string | null {
  if (samples.length === 0) return 'the audio is empty (0 samples)';
  const silent = silentAudio(samples);
  if (silent !== null) return silent;
  const letters = text.replace(/[^\p{L}\p{N}]/gu, '').length;
  const seconds = samples.length / sampleRate;
  const minimum = letters * MIN_SECONDS_PER_LETTER;
  if (seconds < minimum)
    return `the audio is implausibly short: ${seconds.toFixed(3)} s for ${letters} letters (at least ${minimum.toFixed(2)} s expected)`;
  return null;
}

/**
 * Bernoulli membership: each candidate is drawn in (trained on once,
 * repetitions 1) or left out (null) with independent probability 1/2 from the
 * seed's own stream; voices rotate over the candidates.
 */
function planBernoulli(texts: string[], options: ResolvedGenerateOptions): PlannedCanary[] {
  const draw = new SeededRandom(options.seed).fork('membership');
  const planned = texts.map((text, j) => ({
    id: canaryId(options.seed, text),
    text,
    repetitions: draw.nextFloat() < 0.5 ? 1 : null,
    voice: options.voices[j % options.voices.length]!,
  }));
  const drawnIn = planned.filter((c) => c.repetitions !== null).length;
  if (drawnIn === 0 || drawnIn === planned.length)
    throw new RoteError(
      `the seed drew ${drawnIn === 0 ? 'no' : 'every'} candidate into training; use another --seed or more --candidates`,
    );
  if (new Set(planned.map((c) => c.id)).size !== planned.length)
    throw new Error('canary id collision (48-bit hash); use another --seed');
  return planned.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Seeded assignment: shuffle the texts, first `holdout` are held out, then one block per repetition count; voices rotate within each group. */
function planCanaries(texts: string[], options: ResolvedGenerateOptions): PlannedCanary[] {
  if (options.membership === 'bernoulli') return planBernoulli(texts, options);
  const order = new SeededRandom(options.seed).fork('groups').shuffle([...texts]);
  const groups: (number | null)[] = [null, ...options.repetitions];
  const planned: PlannedCanary[] = [];
  let next = 0;
  for (const repetitions of groups) {
    const size = repetitions === null ? options.holdout : options.perGroup;
    for (let j = 0; j < size; j++) {
      const text = order[next++]!;
      planned.push({
        id: canaryId(options.seed, text),
        text,
        repetitions,
        voice: options.voices[j % options.voices.length]!,
      });
    }
  }
  const ids = new Set(planned.map((c) => c.id));
  if (ids.size !== planned.length) throw new Error('canary id collision (48-bit hash); use another --seed');
  return planned.sort((a, b) => (a.id < b.id ? -1 : 1));
}

function roundDuration(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** Writes a canary set (layout: canary-set.ts). */
export async function generateCanarySet(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const resolved = resolveGenerateOptions(options);
  const out = resolve(resolved.out);
  await refuseOutputsOnInputs(
    [
      ...(resolved.wordlist ? [{ path: resolved.wordlist, what: 'the word list', key: 'wordlist' }] : []),
      ...(resolved.excludeWords
        ? [{ path: resolved.excludeWords, what: 'the excluded words', key: 'excludeWords' }]
        : []),
    ],
    [{ path: out, key: 'out', kind: 'folder' }],
  );
  const replacing = await checkCanarySetOutput(out, resolved.force);
  const leftovers = await removeStaleTemporaries(out);

  const language = canaryLanguage(resolved.language);
  const wordlist = await loadWordList(resolved.wordlist ?? languageWordlistPath(language));
  let words = wordlist.words;
  let excludedWords = 0;
  if (resolved.excludeWords) {
    const excluded = await loadExcludedWords(resolved.excludeWords);
    words = words.filter((word) => !isExcluded(excluded, word, language.spaces));
    excludedWords = wordlist.words.length - words.length;
  }
  const bernoulli = resolved.membership === 'bernoulli';
  const count = bernoulli ? resolved.candidates! : resolved.holdout + resolved.perGroup * resolved.repetitions.length;
  const source = `${resolved.wordlist ?? wordlist.name}${excludedWords ? ` (after excluding ${excludedWords} words)` : ''}`;
  const texts = makeCanaryTexts({
    count,
    wordsPerCanary: resolved.words,
    words,
    seed: resolved.seed,
    source,
    separator: language.spaces ? ' ' : '',
  });
  const planned = planCanaries(texts, resolved);

  const warnings: string[] = [];
  if (leftovers.length > 0)
    warnings.push(`removed ${leftovers.length} temporary folder(s) left by interrupted runs: ${leftovers.join(', ')}`);
  const drawnIn = planned.filter((c) => c.repetitions !== null).length;
  if (!bernoulli && resolved.holdout < RECOMMENDED_MIN_HOLDOUT) {
    warnings.push(
      `held-out group of ${resolved.holdout} (< ${RECOMMENDED_MIN_HOLDOUT}): exposure is capped at log2(${resolved.holdout}) = ${Math.log2(resolved.holdout).toFixed(2)} bits and group tests have little power`,
    );
  }

  const parameters: CanarySetParameters = {
    seed: resolved.seed,
    language: language.code,
    count,
    wordsPerCanary: resolved.words,
    wordlist: { name: wordlist.name, sha256: wordlist.sha256, words: wordlist.words.length },
    excludedWords,
    voices: resolved.voices,
    rate: resolved.rate,
    pitch: resolved.pitch,
    speed: resolved.speed,
    speedMethod: resolved.speedMethod,
    sampleRate: resolved.sampleRate,
    repetitions: resolved.repetitions,
    perGroup: bernoulli ? drawnIn : resolved.perGroup,
    holdout: bernoulli ? count - drawnIn : resolved.holdout,
    ...(bernoulli ? { membership: 'bernoulli' as const, candidates: count } : {}),
  };

  const concurrency = Math.min(resolved.concurrency ?? defaultConcurrency(), planned.length);
  let pool: SpeechSynthesisPool | undefined;
  let rate: CharacterRate | undefined;
  try {
    const { set, paths } = await writeCanarySet(out, replacing, async (builder) => {
      let synthesize: Synthesizer;
      if (resolved.ttsCommand) synthesize = commandSynthesizer(resolved, resolved.ttsCommand, concurrency);
      else {
        const started = await SpeechSynthesisPool.start(concurrency);
        pool = started;
        synthesize = (canary) =>
          started.synthesize(canary.text, { voice: canary.voice, rate: resolved.rate, pitch: resolved.pitch });
      }
      const records = await synthesizeCanaries(planned, resolved, synthesize, builder, options.onProgress);
      const canaries = planned.map((c) => records.get(c.id)!);
      rate = characterRate(canaries);
      warnings.push(...speakingRateWarnings(rate));
      return { parameters, canaries, sampleRate: resolved.sampleRate };
    });
    return {
      set,
      dir: out,
      setPath: paths.setFile,
      trainingDir: paths.trainingDir,
      trainingListPath: paths.trainingList,
      warnings,
      charactersPerSecond: rate!,
      seconds: (performance.now() - started) / 1000,
      seedDrawn: options.seed === undefined,
    };
  } catch (error) {
    throw await explainWriteFailure(error, out, '--out');
  } finally {
    await pool?.close();
  }
}

type Synthesizer = (canary: PlannedCanary) => Promise<SynthesizedSpeech>;

/** --tts-command: at most `concurrency` commands at once. */
function commandSynthesizer(resolved: ResolvedGenerateOptions, template: string, concurrency: number): Synthesizer {
  const limiter = createLimiter(concurrency);
  return (canary) =>
    limiter(() =>
      synthesizeWithCommand(template, canary.text, { voice: canary.voice, rate: resolved.rate, pitch: resolved.pitch }),
    );
}

/**
 * Every planned canary: synthesized, checked for plausible speech, sped up (in batches, a few in flight)
 * and written through `builder`; returns the canaries' records by id.
 */
async function synthesizeCanaries(
  planned: PlannedCanary[],
  resolved: ResolvedGenerateOptions,
  synthesize: Synthesizer,
  builder: CanarySetBuilder,
  onProgress: GenerateOptions['onProgress'],
): Promise<Map<string, CanaryRecord>> {
  const ttsBase: Omit<TtsRecord, 'voice'> = resolved.ttsCommand
    ? {
        engine: 'command',
        version: resolved.ttsVersion ?? resolved.ttsCommand,
        rate: resolved.rate,
        pitch: resolved.pitch,
      }
    : { engine: ESPEAK_ENGINE_NAME, version: ESPEAK_WASM_VERSION, rate: resolved.rate, pitch: resolved.pitch };
  const records = new Map<string, CanaryRecord>();
  let done = 0;
  const processBatch = async (batch: PlannedCanary[]) => {
    const speech = await Promise.all(batch.map(synthesize));
    batch.forEach((canary, i) => {
      const problem = implausibleSpeech(canary.text, speech[i]!.samples, speech[i]!.sampleRate);
      if (problem) {
        const engine = resolved.ttsCommand
          ? `--tts-command ${resolved.ttsCommand}; check that the command writes the spoken text as a WAV to {out}`
          : `the embedded espeak-ng (voice ${canary.voice}, rate ${resolved.rate})`;
        throw new RoteError(`canary ${canary.id} ("${canary.text}"): ${problem}; TTS by ${engine}`);
      }
    });
    const fast = await speedUpMany(speech, {
      factor: resolved.speed,
      method: resolved.speedMethod,
      outputRate: resolved.sampleRate,
    });
    await Promise.all(
      batch.map(async (canary, i) => {
        const wav = encodeWav16(fast[i]!, resolved.sampleRate);
        records.set(canary.id, {
          id: canary.id,
          text: canary.text,
          repetitions: canary.repetitions,
          audio: await builder.addAudio(canary.id, wav, canary.repetitions !== null),
          durationSec: roundDuration(fast[i]!.length / resolved.sampleRate),
          sha256: sha256Hex(wav),
          tts: { ...ttsBase, voice: canary.voice },
        });
        onProgress?.({ done: ++done, total: planned.length });
      }),
    );
  };
  const batches: PlannedCanary[][] = [];
  for (let i = 0; i < planned.length; i += BATCH_SIZE) batches.push(planned.slice(i, i + BATCH_SIZE));
  const batchLimiter = createLimiter(BATCHES_IN_FLIGHT);
  await Promise.all(batches.map((batch) => batchLimiter(() => processBatch(batch))));
  return records;
}

/** Runs at most `limit` of the given tasks at once. */
function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
