/**
 * What every Whisper export layout shares (whisper-optimum.ts, whisper-sherpa.ts): the
 * transcription prompt in a language (Whisper's language tokens, the refusals), the
 * vocabulary around the model's own tokenizer, the engine constants (one 30 s window,
 * the encoder's stride 2) and the lines describing the decoding.
 */
import { RoteError } from '../../util/errors.ts';
import type { Vocabulary } from '../vocabulary.ts';
import type { DecodingSettings } from './encoder-decoder-engine.ts';

/** Whisper reads one 30 s window; rote refuses longer audio rather than cut a canary. */
export const WHISPER_MAX_SECONDS = 30;
/** Encoder frames per feature frame: Whisper's second convolution has stride 2. */
export const WHISPER_SUBSAMPLING = 2;

/** Whisper's code for a canary-set language code (its codes are ISO 639-1; Mandarin is "zh"). */
export function whisperLanguageCode(code: string): string {
  return code === 'cmn' ? 'zh' : code;
}

export function languageToken(code: string): string {
  return `<|${whisperLanguageCode(code)}|>`;
}

export interface PromptTokens {
  /** <|startoftranscript|> */
  start: number;
  noTimestamps: number;
  /**
   * Multilingual models: the language token id of a Whisper code (undefined when the model has none) and the
   * transcribe task token. Null for an English-only model.
   */
  multilingual: { languageId: (whisperCode: string) => number | undefined; transcribe: number } | null;
  /** Where the language tokens come from, for errors: "…/generation_config.json: lang_to_id", "…-encoder.onnx: metadata all_language_codes". */
  languagesSource: string;
  /** Why the model is English-only, for the refusal (e.g. "no lang_to_id", "metadata is_multilingual=0"). */
  englishOnlyBecause: string;
}

/**
 * The transcription prompt without timestamps in `language` (a canary-set code): <|startoftranscript|>, then for
 * multilingual models the language and <|transcribe|>, then <|notimestamps|>. English-only models take English alone.
 */
export function transcriptionPrompt(tokens: PromptTokens, language: string, dir: string): number[] {
  if (!tokens.multilingual) {
    if (language !== 'en')
      throw new RoteError(
        `${dir}: an English-only Whisper (${tokens.englishOnlyBecause}) cannot transcribe language "${language}" (--language, or the canary set's language); use English audio and canaries, or a multilingual Whisper`,
      );
    return [tokens.start, tokens.noTimestamps];
  }
  if (language === 'mul')
    throw new RoteError(
      `${dir}: the canaries are in several languages ("mul"); a Whisper prompt names one: audit each language's canaries as their own set`,
    );
  const languageId = tokens.multilingual.languageId(whisperLanguageCode(language));
  if (languageId === undefined || !Number.isInteger(languageId))
    throw new RoteError(`${tokens.languagesSource} has no ${languageToken(language)} for language "${language}"`);
  return [tokens.start, languageId, tokens.multilingual.transcribe, tokens.noTimestamps];
}

/** A Whisper vocabulary: its pieces for display, its special ids, and text both ways through the model's tokenizer. */
export function whisperVocabulary(parts: {
  pieces: string[];
  specialIds: Set<number>;
  endOfText: number;
  source: string;
  encodeReference: (reference: string) => number[];
  decode: (ids: number[]) => string;
}): Vocabulary {
  return {
    pieces: parts.pieces,
    blankId: parts.endOfText,
    kind: 'byte-level-bpe',
    separatorId: null,
    specialIds: parts.specialIds,
    unkId: null,
    source: parts.source,
    tokenizer: { encodeReference: parts.encodeReference, decode: parts.decode },
  };
}

/** The detection lines of a Whisper engine: the decoding, the score, the 30 s limit. */
export function whisperDescription(
  settings: DecodingSettings,
  layers: number,
  language: string,
  maxLengthFrom: string,
): string[] {
  return [
    `decoding: greedy with the KV cache (${layers} decoder layer${layers === 1 ? '' : 's'}), prompt ${JSON.stringify(settings.prompt)} (${settings.prompt.length > 2 ? `${languageToken(language)}, transcribe, ` : 'English-only: '}no timestamps), ${settings.suppress.length} suppressed tokens, ${settings.beginSuppress.length} at the start, max_length ${settings.maxLength} (${maxLengthFrom})`,
    'reference score: teacher-forced decoder log-likelihood of " " + text, then end-of-text ("decoder score")',
    `audio over ${WHISPER_MAX_SECONDS} s is refused (one Whisper window; rote never cuts a canary)`,
  ];
}
