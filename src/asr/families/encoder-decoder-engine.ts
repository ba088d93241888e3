/**
 * The decoding base of attention encoder-decoders (Whisper-style): the encoder runs
 * once per batch; greedy decoding starts every row from the same prompt with one
 * full decoder pass, then extends all rows together one token per step with the
 * KV cache (rows that ended keep feeding it, their outputs unused), until every
 * row ended (end-of-text, or the adapter's token cap: a row at its cap ends as its
 * last token is chosen, with no step after it) or the sequence reaches the maximum length. Suppressed
 * tokens get -Infinity at every step, the begin-suppressed ones at the first
 * generated position too.
 * The reference score is teacher-forced: one decoder pass over prompt + reference
 * tokens (right-padded with end-of-text to the batch's longest: the decoder is
 * causal, so padding never reaches earlier positions); ln P(reference tokens, then
 * end-of-text | audio, prompt) from the raw logits (no suppression). Where the
 * adapter can cut a pass's cache to the prompt (truncate), that pass is also greedy
 * decoding's first: its logits at the prompt's last position and its cache of the
 * prompt are what a pass over the prompt alone gives (causal), so the score costs
 * the reference positions of one pass, not a second pass over the encoder states.
 * A layout file supplies the adapter (how its ONNX files are fed) and the settings.
 */
import { RoteError } from '../../util/errors.ts';
import { openEngine, type EngineSetup, type EngineSessions } from '../engine.ts';
import type { LoadModelOptions, Engine, FeatureBatch, UtteranceOutput } from './types.ts';

/** Opaque to the base: whatever the adapter keeps between steps (encoder states, KV cache). */
export type DecoderState = unknown;

export interface EncoderDecoderAdapter {
  /** Encoder states of the batch, as the decoder takes them. */
  encode(batch: FeatureBatch): Promise<DecoderState>;
  /** One decoder pass over `ids` (n rows of equal length): logits [n, length, vocab] and the state for `step`. */
  decode(encoded: DecoderState, ids: number[][]): Promise<{ logits: Float32Array; state: DecoderState }>;
  /** One more token per row, with the cache: logits [n, vocab]. */
  step(state: DecoderState, tokens: number[]): Promise<{ logits: Float32Array; state: DecoderState }>;
  /**
   * The state of a decode() over longer rows, cut to their first `length` positions (the state a
   * decode() over those positions alone gives): greedy decoding then starts from the score's pass.
   */
  truncate?(state: DecoderState, length: number): DecoderState;
  /** Per row, the most tokens greedy decoding may generate (a runtime's own cap, e.g. sherpa-onnx's); none if absent. */
  maxNewTokens?(encoded: DecoderState): number[];
}

export interface DecodingSettings {
  prompt: number[];
  endOfText: number;
  vocabSize: number;
  suppress: number[];
  beginSuppress: number[];
  /** Prompt and generated tokens together, at most (generation_config max_length). */
  maxLength: number;
  /** Decoder positions (max_target_positions): a reference longer than this cannot be scored. */
  maxPositions: number;
}

export interface EncoderDecoderLayout extends EngineSetup {
  subsampling: number;
  /** Seconds of audio the encoder reads at most (Whisper: 30); longer input is refused, never cut. None: no limit of the model's own. */
  maxDurationSec?: number;
  settings: DecodingSettings;
  open(sessions: EngineSessions): EncoderDecoderAdapter;
  /** Lines for the detection reasons (decoder files, prompt, score). */
  describe: string[];
}

/** 1 at the ids in `ids` (those outside 0..size-1 ignored): a lookup per logit that costs no hashing. */
function mask(size: number, ids: number[]): Uint8Array {
  const blocked = new Uint8Array(size);
  for (const id of ids) if (Number.isInteger(id) && id >= 0 && id < size) blocked[id] = 1;
  return blocked;
}

function argmax(logits: Float32Array, offset: number, size: number, blocked: Uint8Array): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let k = 0; k < size; k++) {
    const value = logits[offset + k]!;
    if (value > bestValue && blocked[k] === 0) {
      best = k;
      bestValue = value;
    }
  }
  return best;
}

/** ln softmax(row)[target], in float64. */
function logSoftmaxAt(logits: Float32Array, offset: number, size: number, target: number): number {
  let max = -Infinity;
  for (let k = 0; k < size; k++) max = Math.max(max, logits[offset + k]!);
  let sum = 0;
  for (let k = 0; k < size; k++) sum += Math.exp(logits[offset + k]! - max);
  return logits[offset + target]! - max - Math.log(sum);
}

/** Logits of `positions` positions must be `vocabSize` wide: a token file of another model would shift every row silently. */
function checkLogits(logits: Float32Array, positions: number, s: DecodingSettings): void {
  if (logits.length === positions * s.vocabSize) return;
  const perPosition = logits.length / positions;
  throw new RoteError(
    `the decoder gave ${Number.isInteger(perPosition) ? perPosition : logits.length} logits per position` +
      `${Number.isInteger(perPosition) ? '' : ` (in all, for ${positions} positions)`}, the vocabulary has ${s.vocabSize} tokens: ` +
      'the token file (tokens.txt, vocab.txt or tokenizer.json) does not belong to this decoder; use the files exported with it',
  );
}

/** A full decoder pass whose rows start with the prompt: logits [rows, width, vocab] and its state. */
interface FullPass {
  logits: Float32Array;
  state: DecoderState;
  width: number;
}

/**
 * Greedy decoding of every row of the batch; the generated tokens of each (end-of-text excluded).
 * `first`: a pass over rows that start with the prompt, its state already cut to the prompt (else one is run).
 */
export async function greedyDecode(
  adapter: EncoderDecoderAdapter,
  encoded: DecoderState,
  rows: number,
  s: DecodingSettings,
  first?: FullPass,
): Promise<number[][]> {
  const suppress = mask(s.vocabSize, s.suppress);
  const atBegin = mask(s.vocabSize, [...s.suppress, ...s.beginSuppress]);
  const generated: number[][] = Array.from({ length: rows }, () => []);
  const ended = new Array<boolean>(rows).fill(false);
  const limits = adapter.maxNewTokens?.(encoded);
  if (s.prompt.length >= s.maxLength) return generated;
  const start = first ?? {
    ...(await adapter.decode(
      encoded,
      generated.map(() => s.prompt),
    )),
    width: s.prompt.length,
  };
  checkLogits(start.logits, rows * start.width, s);
  let state = start.state;
  let logits = start.logits;
  let stride = start.width * s.vocabSize;
  let offset = (s.prompt.length - 1) * s.vocabSize;
  for (let length = s.prompt.length; length < s.maxLength; length++) {
    const blocked = length === s.prompt.length ? atBegin : suppress;
    const tokens = generated.map((tokens, r) => {
      if (limits && tokens.length >= limits[r]!) ended[r] = true;
      if (ended[r]) return s.endOfText;
      const token = argmax(logits, r * stride + offset, s.vocabSize, blocked);
      if (token === s.endOfText || token < 0) ended[r] = true;
      else tokens.push(token);
      // A row at its cap is done now: no step computes logits it would not read.
      if (limits && tokens.length >= limits[r]!) ended[r] = true;
      return ended[r] ? s.endOfText : token;
    });
    if (ended.every(Boolean) || length + 1 >= s.maxLength) break;
    const next = await adapter.step(state, tokens);
    checkLogits(next.logits, rows, s);
    state = next.state;
    logits = next.logits;
    stride = s.vocabSize;
    offset = 0;
  }
  return generated;
}

/** ln P(targets, end-of-text | prompt) per row (null where no targets, or too long for the decoder). */
export async function teacherForcedScores(
  adapter: EncoderDecoderAdapter,
  encoded: DecoderState,
  targets: (number[] | null)[],
  s: DecodingSettings,
): Promise<(number | null)[]> {
  return (await scoredPass(adapter, encoded, targets, s))?.scores ?? targets.map(() => null);
}

/** The teacher-forced pass (every row: the prompt, then its targets or end-of-text padding) and its scores; null when no row fits. */
async function scoredPass(
  adapter: EncoderDecoderAdapter,
  encoded: DecoderState,
  targets: (number[] | null)[],
  s: DecodingSettings,
): Promise<(FullPass & { scores: (number | null)[] }) | null> {
  const fits = (t: number[] | null): t is number[] => t !== null && s.prompt.length + t.length + 1 <= s.maxPositions;
  if (!targets.some(fits)) return null;
  const longest = Math.max(...targets.map((t) => (fits(t) ? t.length : 0)));
  const width = s.prompt.length + longest;
  const ids = targets.map((t) => {
    const row = [...s.prompt, ...(fits(t) ? t : [])];
    while (row.length < width) row.push(s.endOfText);
    return row;
  });
  const { logits, state } = await adapter.decode(encoded, ids);
  checkLogits(logits, ids.length * width, s);
  const scores = targets.map((t, r) => {
    if (!fits(t)) return null;
    const scored = [...t, s.endOfText];
    let sum = 0;
    scored.forEach((token, i) => {
      sum += logSoftmaxAt(logits, (r * width + s.prompt.length - 1 + i) * s.vocabSize, s.vocabSize, token);
    });
    return sum;
  });
  return { logits, state, width, scores };
}

/** Greedy tokens of every row, and the teacher-forced scores when `targets` are given (in one first pass where the adapter can truncate). */
async function decodeBatch(
  adapter: EncoderDecoderAdapter,
  encoded: DecoderState,
  rows: number,
  s: DecodingSettings,
  targets: (number[] | null)[] | undefined,
): Promise<{ tokens: number[][]; scores: (number | null)[] | null }> {
  if (!targets) return { tokens: await greedyDecode(adapter, encoded, rows, s), scores: null };
  if (!adapter.truncate) {
    const tokens = await greedyDecode(adapter, encoded, rows, s);
    return { tokens, scores: await teacherForcedScores(adapter, encoded, targets, s) };
  }
  const pass = await scoredPass(adapter, encoded, targets, s);
  if (!pass) return { tokens: await greedyDecode(adapter, encoded, rows, s), scores: targets.map(() => null) };
  const first = { ...pass, state: adapter.truncate(pass.state, s.prompt.length) };
  return { tokens: await greedyDecode(adapter, encoded, rows, s, first), scores: pass.scores };
}

export async function createEncoderDecoderEngine(
  layout: EncoderDecoderLayout,
  options: LoadModelOptions,
): Promise<Engine> {
  const { settings } = layout;
  if (settings.prompt.some((id) => !Number.isInteger(id) || id < 0 || id >= settings.vocabSize))
    throw new RoteError(
      `${layout.dir}: the decoder prompt ${JSON.stringify(settings.prompt)} has ids outside the vocabulary`,
    );
  const engine = await openEngine(layout, options, async (sessions) => {
    const adapter = layout.open(sessions);
    return {
      kind: 'encoder-decoder',
      subsampling: layout.subsampling,
      because: layout.describe,
      decoder: { kind: 'encoder-decoder' },
      async run(batch: FeatureBatch, targets?: (number[] | null)[]): Promise<UtteranceOutput[]> {
        const encoded = await adapter.encode(batch);
        const rows = batch.frames.length;
        const { tokens, scores } = await decodeBatch(adapter, encoded, rows, settings, targets);
        return tokens.map((tokenIds, r) => ({
          tokenIds,
          logProbs: null,
          outFrames: 0,
          forcedLogLikelihood: scores ? scores[r]! : null,
        }));
      },
    };
  });
  return layout.maxDurationSec === undefined ? engine : { ...engine, maxDurationSec: layout.maxDurationSec };
}
