/**
 * Characters per second of canary audio: what decides whether a model can emit
 * a canary at all. A character CTC model needs at least one output frame per
 * character of the normalized text (spaces between words included; more for
 * repeated letters), so a canary spoken faster than the model's output frame
 * rate can never be recognized, memorized or not (src/asr/feasibility.ts checks
 * a model's real budget). Words per minute mean different character rates in
 * different languages, hence rates here are measured on the generated audio.
 */
import { normalizeText } from '../util/normalize-text.ts';

/** Output frames per second of common ASR models: 10 ms features subsampled 4x (25/s) and 8x (12.5/s). */
const COMMON_OUTPUT_FRAME_RATES =
  '25 output frames/s (4x subsampling, e.g. character CTC models) or 12.5 (8x, e.g. NeMo FastConformer)';

/**
 * Median characters per second above which generate warns: English canaries at rote's
 * defaults (100 wpm, 3x) carry about 27 (measured: test/canary/languages.test.ts), and
 * every language's default rate is set to about that.
 */
export const FAST_CHARACTERS_PER_SECOND = 30;

/** Characters of the normalized text (spaces between words included) per second of audio. */
export function charactersPerSecond(text: string, seconds: number): number {
  return [...normalizeText(text)].length / Math.max(seconds, 1e-9);
}

export interface CharacterRate {
  median: number;
  fastest: number;
}

/** Median and fastest characters per second of a set's audio (rounded to 0.1). */
export function characterRate(canaries: readonly { text: string; durationSec: number }[]): CharacterRate {
  const rates = canaries.map((canary) => charactersPerSecond(canary.text, canary.durationSec)).sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return { median: round(rates[Math.floor(rates.length / 2)] ?? 0), fastest: round(rates[rates.length - 1] ?? 0) };
}

/** A warning when the set's median rate is above FAST_CHARACTERS_PER_SECOND, else none. */
export function speakingRateWarnings(rate: CharacterRate): string[] {
  if (rate.median <= FAST_CHARACTERS_PER_SECOND) return [];
  return [
    `canaries are spoken at ${rate.median} characters per second (median; fastest ${rate.fastest}), faster than rote's English defaults (about 27): ` +
      `a model emitting ${COMMON_OUTPUT_FRAME_RATES} needs at least one output frame per character (or token), so many of them may be unrecognizable at any level of memorization; ` +
      'check with generate --model or rote check-canaries, or lower --rate or --speed',
  ];
}
