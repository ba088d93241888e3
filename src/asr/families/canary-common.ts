/**
 * What the two NeMo Canary layouts (canary-onnx-asr.ts, canary-sherpa.ts) share: the token
 * file, the decoder prompt and the decoding settings.
 *
 * Prompt: NeMo's canary2 prompt format (nemo/collections/common/prompts/canary2.py) for
 * transcription: <|startofcontext|> (empty decoder context) <|startoftranscript|>
 * <|emo:undefined|> <|src|> <|tgt|> <|pnc|> <|noitn|> <|notimestamp|> <|nodiarize|>, with source
 * and target both the canary set's language (transcription, not translation), punctuation and
 * capitalization on (NeMo's default slot value, and the default of both onnx-asr and sherpa-onnx),
 * no inverse text normalization, no timestamps, no diarization. sherpa-onnx feeds exactly this;
 * onnx-asr puts the "▁" token first (how a single SentencePiece tokenizer, canary-1b-v2's,
 * encodes the prompt string): the onnx-asr layout does the same, so that rote decodes as the tool
 * that wrote the layout does.
 * Decoding: greedy with the decoder memories, stop at <|endoftext|>; the transcript drops every
 * "<|...|>" token. Score: the teacher-forced decoder log-likelihood of the canary text (each word
 * "▁" + word in the vocabulary's pieces), then <|endoftext|>.
 */
import { readFile } from 'node:fs/promises';
import { RoteError } from '../../util/errors.ts';
import { buildVocabulary, type Vocabulary } from '../vocabulary.ts';
import type { DecodingSettings } from './encoder-decoder-engine.ts';

const WORD_START = '\u2581';
const END_OF_TEXT = '<|endoftext|>';
/** NeMo's Canary models: max_sequence_length of the transformer decoder (prompt and output together). */
export const CANARY_MAX_SEQUENCE_LENGTH = 1024;

export interface CanaryVocabulary {
  vocabulary: Vocabulary;
  /** Every id of each piece, in file order (aggregate tokenizers list a piece once per language). */
  ids: Map<string, number[]>;
  duplicates: number;
}

/**
 * A Canary token file: one "<piece> <id>" per line, ids 0.. without gaps (onnx-asr's vocab.txt and
 * sherpa-onnx's tokens.txt have this form). Unlike other token files, a piece may be listed more
 * than once: Canary's aggregate tokenizer holds one SentencePiece vocabulary per language.
 */
export async function readCanaryVocabulary(path: string): Promise<CanaryVocabulary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RoteError(
      `${path}: cannot read the token file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const pieces: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(.*?)\s+(\d+)$/.exec(line);
    if (!match || match[1] === '')
      throw new RoteError(`${path}:${index + 1}: expected "<piece> <id>", got ${JSON.stringify(line)}`);
    const id = Number(match[2]);
    if (pieces[id] !== undefined) throw new RoteError(`${path}:${index + 1}: id ${id} appears twice`);
    pieces[id] = match[1]!;
  });
  for (let id = 0; id < pieces.length; id++)
    if (pieces[id] === undefined) throw new RoteError(`${path}: no token has id ${id}; ids must run without gaps`);
  if (pieces.length === 0) throw new RoteError(`${path}: empty token file`);
  const ids = new Map<string, number[]>();
  pieces.forEach((piece, id) => ids.set(piece, [...(ids.get(piece) ?? []), id]));
  const endOfText = ids.get(END_OF_TEXT)?.[0];
  if (endOfText === undefined) throw new RoteError(`${path}: no ${END_OF_TEXT} token; this is not a Canary token file`);
  const vocabulary = buildVocabulary({ pieces, nemoStyle: false }, endOfText, path);
  return { vocabulary, ids, duplicates: pieces.length - ids.size };
}

function tokenId(v: CanaryVocabulary, piece: string, which: 'first' | 'last' = 'first'): number {
  const found = v.ids.get(piece);
  if (!found) throw new RoteError(`${v.vocabulary.source}: no ${piece} token; the Canary prompt needs it`);
  return which === 'first' ? found[0]! : found[found.length - 1]!;
}

/** The transcription prompt in `language` (a canary set's code); `leadingSpace`: onnx-asr's "▁" first. */
export function canaryPrompt(v: CanaryVocabulary, language: string, leadingSpace: boolean): number[] {
  if (language === 'mul')
    throw new RoteError(
      `the canaries are in several languages ("mul"); a Canary prompt names one: audit each language's canaries as their own set`,
    );
  const languageToken = `<|${language}|>`;
  if (!v.ids.has(languageToken))
    throw new RoteError(
      `${v.vocabulary.source}: no ${languageToken} token for the canaries' language "${language}"; this Canary does not transcribe it`,
    );
  const pieces = [
    '<|startofcontext|>',
    '<|startoftranscript|>',
    '<|emo:undefined|>',
    languageToken,
    languageToken,
    '<|pnc|>',
    '<|noitn|>',
    '<|notimestamp|>',
    '<|nodiarize|>',
  ];
  // onnx-asr looks pieces up in a dictionary built from the file: a repeated piece gets its last id.
  return [...(leadingSpace ? [tokenId(v, WORD_START, 'last')] : []), ...pieces.map((p) => tokenId(v, p))];
}

export function canarySettings(
  v: CanaryVocabulary,
  prompt: number[],
  maxSequenceLength = CANARY_MAX_SEQUENCE_LENGTH,
): DecodingSettings {
  return {
    prompt,
    endOfText: tokenId(v, END_OF_TEXT),
    vocabSize: v.vocabulary.pieces.length,
    suppress: [],
    beginSuppress: [],
    maxLength: maxSequenceLength,
    maxPositions: maxSequenceLength,
  };
}

/** The detection lines on decoding and score, shared by both layouts. */
export function canaryDescription(v: CanaryVocabulary, settings: DecodingSettings, language: string): string[] {
  const lines = [
    `decoding: greedy with the decoder memories, prompt ${JSON.stringify(settings.prompt)} (canary2 format: ${settings.prompt.length === 10 ? '"▁" first as onnx-asr feeds it, ' : ''}<|${language}|> to <|${language}|>, transcribe with punctuation, no ITN, no timestamps), max_sequence_length ${settings.maxLength}`,
    'reference score: teacher-forced decoder log-likelihood of the text ("▁" + each word in the vocabulary\'s pieces), then <|endoftext|> ("decoder score")',
  ];
  if (v.duplicates > 0)
    lines.push(
      `${v.duplicates} pieces are listed more than once (one SentencePiece vocabulary per language): the reference uses each piece's first id`,
    );
  return lines;
}
