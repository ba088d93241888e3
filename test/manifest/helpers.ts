/** Test helpers: a tiny canary set with real WAVs (valid for src/canary's readers), temporary dirs, fixture copies. */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWav16 } from '../../src/audio/wav.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import type { CanaryRecord, CanarySet, CanarySetParameters } from '../../src/canary/types.ts';
import { canarySetDocuments } from '../../src/canary/canonical.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));

export async function temporaryDir(label: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `rote-manifest-${label}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function copyFixture(name: string, to: string): Promise<string> {
  await cp(join(FIXTURES, name), join(to, name), { recursive: true });
  return join(to, name);
}

/** A tone with a little seeded noise, distinct per index. */
export function toneSamples(index: number, sampleRate: number, seconds = 0.4): Float32Array {
  const samples = new Float32Array(Math.round(sampleRate * seconds));
  let state = 12345 + index;
  for (let i = 0; i < samples.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    samples[i] = 0.3 * Math.sin((2 * Math.PI * (220 + 110 * index) * i) / sampleRate) + 0.02 * (state / 2 ** 32 - 0.5);
  }
  return samples;
}

export interface TestSet {
  dir: string;
  set: CanarySet;
  inserted: CanaryRecord[];
  heldOut: CanaryRecord[];
}

const WORDS = [
  'velvet anchor orbit crimson lantern',
  'marble tundra quiver saddle plume',
  'hollow ember cactus violin dune',
  'pepper glacier harbor tulip comet',
  'falcon meadow ribbon quartz ladle',
  'cobalt whisper thistle engine moss',
];

/** Writes a canary set: repetitions [1, 2, 4] plus two held-out canaries, at `sampleRate`. */
export async function writeTestSet(
  dir: string,
  sampleRate = 16000,
  repetitions: Array<number | null> = [1, 2, 4, null, null],
): Promise<TestSet> {
  await mkdir(join(dir, 'audio'), { recursive: true });
  await mkdir(join(dir, 'for-training', 'audio'), { recursive: true });
  const canaries: CanaryRecord[] = [];
  for (const [index, reps] of repetitions.entries()) {
    const id = sha256Hex(`canary-${index}`).slice(0, 8);
    const samples = toneSamples(index, sampleRate);
    const wav = encodeWav16(samples, sampleRate);
    await writeFile(join(dir, 'audio', `${id}.wav`), wav);
    if (reps !== null) await writeFile(join(dir, 'for-training', 'audio', `${id}.wav`), wav);
    canaries.push({
      id,
      text: WORDS[index % WORDS.length]!,
      repetitions: reps,
      audio: `audio/${id}.wav`,
      durationSec: samples.length / sampleRate,
      sha256: sha256Hex(wav),
      tts: { engine: 'test-tone', version: '0', voice: 'none', rate: 175, pitch: 50 },
    });
  }
  const parameters: CanarySetParameters = {
    seed: 'test',
    count: canaries.length,
    wordsPerCanary: 5,
    wordlist: { name: 'test', sha256: '0'.repeat(64), words: 30 },
    excludedWords: 0,
    voices: ['none'],
    rate: 175,
    pitch: 50,
    speed: 3,
    speedMethod: 'tempo',
    sampleRate,
    repetitions: [...new Set(repetitions.filter((r): r is number => r !== null))],
    perGroup: 1,
    holdout: repetitions.filter((r) => r === null).length,
  };
  const { set, training } = canarySetDocuments(parameters, canaries, sampleRate);
  await writeFile(join(dir, 'canary-set.json'), JSON.stringify(set, null, 2));
  await writeFile(join(dir, 'for-training', 'canaries.json'), JSON.stringify(training, null, 2));
  return {
    dir,
    set,
    inserted: canaries.filter((c) => c.repetitions !== null),
    heldOut: canaries.filter((c) => c.repetitions === null),
  };
}

/** Awaits `promise`, asserting that it rejects with a message matching `pattern`; returns the error. */
export async function expectRejection(promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (!pattern.test((error as Error).message))
      throw new Error(`expected an error matching ${pattern}, got: ${(error as Error).message}`);
    return error as Error;
  }
  throw new Error(`expected a rejection matching ${pattern}, but it resolved`);
}

/** The `rote audit` arguments for a canary set, a model and an --out folder, then any further flags. */
export function auditArgs(canaries: string, model: string, out: string, ...flags: string[]): string[] {
  return ['audit', '--canaries', canaries, '--model', model, '--out', out, ...flags];
}

/** The `rote transcribe` arguments for a canary set, a model and an --out file, then any further flags. */
export function transcribeArgs(canaries: string, model: string, out: string, ...flags: string[]): string[] {
  return ['transcribe', '--model', model, '--canaries', canaries, '--out', out, ...flags];
}
