/**
 * Can a model emit a reference at all? A CTC model emits one symbol (or blank)
 * per output frame, and two equal neighbouring tokens need a blank between
 * them, so a reference of n tokens with r adjacent repeats needs n + r output
 * frames; a transducer with greedy search emits at most `maxSymbolsPerFrame`
 * (sherpa-onnx: 1) tokens per encoder frame; an attention encoder-decoder (Whisper,
 * Canary) emits tokens from its decoder, not per frame, so it needs none. A canary whose reference needs
 * more frames than its audio gives can never be recognized, memorized or not:
 * sped-up speech can be too fast for the model's frame rate.
 *
 * Output frames are taken as ceil(feature frames / subsampling), the most any
 * family's length rule gives (NeMo: ceil; sherpa-onnx: floor), so "infeasible"
 * is never claimed for a canary that fits.
 *
 * Vocabulary: a reference (normalized as every text, src/util/normalize-text.ts)
 * holding a character that the model can never write can never be recognized
 * either: such a canary is infeasible and its missing characters are named. For a
 * character vocabulary that is any character its tokens.txt lacks; for a
 * SentencePiece/BPE vocabulary, any character no piece covers where the text needs
 * it, so that the text needs <unk>: a script none of its pieces writes (Cyrillic
 * for an English model), or a letter of a script it writes that no piece holds in
 * that position (a real SentencePiece model holds every character of its training
 * text as a piece, so this is a character the model never saw). Byte-level BPE
 * spells any text: nothing is missing.
 */
import { ctcMinimumFrames } from './ctc.ts';
import { engineOf, type AsrModel } from './model.ts';
import { tokenizeReference } from './vocabulary.ts';
import { probeWav } from '../audio/wav.ts';
import { normalizeText } from '../util/normalize-text.ts';

export interface FrameBudget {
  /** Reference length in the model's tokens. */
  tokens: number;
  /** Output frames the reference needs at least. */
  neededFrames: number;
  /** Output frames the utterance gives at most. */
  outputFrames: number;
  /** Characters of the normalized reference that the vocabulary cannot emit (empty when it can emit them all). */
  missingCharacters: string[];
  /** Enough output frames and no missing character. */
  feasible: boolean;
}

/** Transducers: tokens emitted per encoder frame at most, as the greedy search runs by default. */
export const TRANSDUCER_SYMBOLS_PER_FRAME = 1;

/** The frame budget of `reference` on an utterance of `featureFrames` feature frames (as the model's frontend computes them). */
export function referenceFrameBudget(model: AsrModel, reference: string, featureFrames: number): FrameBudget {
  const engine = engineOf(model);
  const vocabulary = engine.vocabulary;
  const tokens = tokenizeReference(vocabulary, normalizeText(reference));
  const { ids, missing } = tokens;
  const neededFrames = model.info.isCtc
    ? ctcMinimumFrames(ids)
    : model.info.decoder?.kind === 'encoder-decoder'
      ? 0
      : Math.ceil(ids.length / TRANSDUCER_SYMBOLS_PER_FRAME);
  const outputFrames = Math.ceil(featureFrames / Math.max(1, model.info.subsampling));
  return {
    tokens: ids.length,
    neededFrames,
    outputFrames,
    missingCharacters: missing,
    // No output frame at all (audio longer than the model reads: 0 frames) is never recognized, even with no frame limit.
    feasible: outputFrames > 0 && neededFrames <= outputFrames && missing.length === 0,
  };
}

/**
 * Feature frames the model's frontend computes for a WAV file (from its header; resampling to the model's rate counted).
 * 0 for audio longer than the model reads (Whisper: 30 s): such a canary is refused, never cut, so it is infeasible.
 */
export function featureFramesOfWav(model: AsrModel, path: string): number {
  const engine = engineOf(model);
  const frontend = engine.frontend;
  const header = probeWav(path);
  if (engine.maxDurationSec !== undefined && header.numSamples / header.sampleRate > engine.maxDurationSec) return 0;
  const samples =
    header.sampleRate === frontend.sampleRate
      ? header.numSamples
      : Math.round((header.numSamples * frontend.sampleRate) / header.sampleRate);
  return frontend.framesFor(samples);
}
