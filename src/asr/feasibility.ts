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
 * SentencePiece/BPE vocabulary, a character of a script none of its pieces writes
 * (Cyrillic for an English model: the text needs <unk>). A BPE vocabulary's gaps
 * inside a script it writes (a letter only word-initial pieces hold, as in rote's
 * toy test models) stay a note of the score ("characters ... were dropped").
 */
import { ctcMinimumFrames } from './ctc.ts';
import { engineOf, type AsrModel } from './model.ts';
import { tokenizeReference, type Vocabulary } from './vocabulary.ts';
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
  const { ids } = tokens;
  const missing =
    vocabulary.kind === 'characters'
      ? tokens.missing
      : tokens.missing.filter((character) => !scriptsOf(vocabulary).has(scriptOf(character)));
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
    feasible: neededFrames <= outputFrames && missing.length === 0,
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

/** Scripts told apart for BPE vocabularies; a character of none of them is its own "script". */
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Arabic',
  'Hebrew',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Thai',
  'Georgian',
  'Armenian',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
].map((name) => [name, new RegExp(`\\p{Script=${name}}`, 'u')] as const);

function scriptOf(character: string): string {
  return SCRIPTS.find(([, pattern]) => pattern.test(character))?.[0] ?? character;
}

const vocabularyScripts = new WeakMap<object, Set<string>>();

/** The scripts a vocabulary's pieces write (cached per vocabulary). */
function scriptsOf(vocabulary: Vocabulary): Set<string> {
  let scripts = vocabularyScripts.get(vocabulary);
  if (!scripts) {
    const written = vocabulary.pieces.filter((_, id) => !vocabulary.specialIds.has(id));
    scripts = new Set(written.flatMap((piece) => [...piece].filter((c) => /\p{L}/u.test(c)).map(scriptOf)));
    vocabularyScripts.set(vocabulary, scripts);
  }
  return scripts;
}
