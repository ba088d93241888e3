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
import { basename } from 'node:path';
import { canaryLanguage, languageWordlistPath } from '../../canary/languages.ts';
import { loadWordList } from '../../canary/words.ts';
import { buildVocabulary, tokenizeReference, type Vocabulary } from '../vocabulary.ts';
import type { DecodingSettings } from './encoder-decoder-engine.ts';

const WORD_START = '\u2581';
const END_OF_TEXT = '<|endoftext|>';
const UNKNOWN = '<unk>';
/** NeMo's Canary models: max_sequence_length of the transformer decoder (prompt and output together). */
export const CANARY_MAX_SEQUENCE_LENGTH = 1024;

export interface CanaryVocabulary {
  vocabulary: Vocabulary;
  /** Every id of each piece, in file order (aggregate tokenizers list a piece once per language). */
  ids: Map<string, number[]>;
  duplicates: number;
  /** The sub-vocabularies in file order: ids [start, end), each from a <unk> to the next. */
  blocks: TokenBlock[];
}

interface TokenBlock {
  start: number;
  end: number;
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
    // The last space or tab ends the piece: sherpa-onnx's export writes each piece as NeMo's
    // ids_to_text spells it, "▁" as a space ("▁the" as " the", "▁" alone as " ").
    const match = /^(.*)[ \t](\d+)$/.exec(line);
    if (!match || match[1] === '')
      throw new RoteError(`${path}:${index + 1}: expected "<piece> <id>", got ${JSON.stringify(line)}`);
    const id = Number(match[2]);
    if (pieces[id] !== undefined) throw new RoteError(`${path}:${index + 1}: id ${id} appears twice`);
    pieces[id] = match[1]!.replaceAll(' ', WORD_START);
  });
  for (let id = 0; id < pieces.length; id++)
    if (pieces[id] === undefined) throw new RoteError(`${path}: no token has id ${id}; ids must run without gaps`);
  if (pieces.length === 0) throw new RoteError(`${path}: empty token file`);
  const ids = new Map<string, number[]>();
  pieces.forEach((piece, id) => ids.set(piece, [...(ids.get(piece) ?? []), id]));
  const endOfText = ids.get(END_OF_TEXT)?.[0];
  if (endOfText === undefined) throw new RoteError(`${path}: no ${END_OF_TEXT} token; this is not a Canary token file`);
  const vocabulary = buildVocabulary({ pieces, nemoStyle: false }, endOfText, path);
  // Every SentencePiece vocabulary has its own <unk> (its id 0): each one starts a block.
  const starts = [0, ...pieces.flatMap((piece, id) => (piece === UNKNOWN && id > 0 ? [id] : [])), pieces.length];
  const blocks = starts.slice(0, -1).map((start, i) => ({ start, end: starts[i + 1]! }));
  return { vocabulary, ids, duplicates: pieces.length - ids.size, blocks };
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

export interface CanaryScoring {
  /** The vocabulary the engine decodes with, its referencePieces those of the language's own block. */
  vocabulary: Vocabulary;
  describe: string[];
}

/** The pieces of one block and their ids (a piece's first id in the block), special tokens left out. */
function blockPieces(v: CanaryVocabulary, block: TokenBlock): Map<string, number> {
  const pieces = new Map<string, number>();
  for (let id = block.start; id < block.end; id++) {
    const piece = v.vocabulary.pieces[id]!;
    if (!v.vocabulary.specialIds.has(id) && !pieces.has(piece)) pieces.set(piece, id);
  }
  return pieces;
}

/**
 * How the canary text is tokenized for the decoder score in `language`. NeMo's Canary tokenizer
 * (canary_tokenizer.py on aggregate_tokenizer.py) trains on a transcript in language L as L's own
 * SentencePiece model spells it, its ids offset by the start of L's block; the token files
 * concatenate the blocks (the special tokens' first) but do not say which language each text block
 * is (the order lives in the .nemo's tokenizer.langs). So the language's block is the text block
 * that spells the language's word list (the words its canaries are drawn from) covering the most
 * characters in the fewest pieces: a vocabulary trained on L spells L far more compactly. A file
 * with one block (canary-1b-v2's single tokenizer) keeps each piece's first id.
 */
export async function canaryScoring(v: CanaryVocabulary, language: string): Promise<CanaryScoring> {
  const endOfText = tokenId(v, END_OF_TEXT);
  const textBlocks = v.blocks.filter((b) => endOfText < b.start || endOfText >= b.end);
  if (v.blocks.length < 2 || textBlocks.length === 0)
    return {
      vocabulary: v.vocabulary,
      describe:
        v.duplicates > 0
          ? [`${v.duplicates} pieces are listed more than once: the reference uses each piece's first id`]
          : [],
    };
  const chosen =
    textBlocks.length === 1
      ? { block: textBlocks[0]!, because: 'the only text block', others: '' }
      : await rankBlocks(v, textBlocks, language);
  return {
    vocabulary: { ...v.vocabulary, referencePieces: blockPieces(v, chosen.block) },
    describe: [
      `tokenizer: ${v.blocks.length} SentencePiece vocabularies (NeMo's aggregate tokenizer, one per language and the special tokens'); the reference in <|${language}|> is spelled with the block at ${range(chosen.block)} (${chosen.because}${chosen.others}), as NeMo tokenizes a transcript with its language's own vocabulary`,
    ],
  };
}

async function rankBlocks(
  v: CanaryVocabulary,
  blocks: TokenBlock[],
  language: string,
): Promise<{ block: TokenBlock; because: string; others: string }> {
  const list = languageWordlistPath(canaryLanguage(language));
  const sample = (await loadWordList(list)).words.join(' ');
  const ranked = blocks
    .map((block) => {
      const spelled = tokenizeReference({ ...v.vocabulary, referencePieces: blockPieces(v, block) }, sample);
      return { block, characters: spelled.characters, pieces: spelled.ids.length };
    })
    .sort((a, b) => b.characters - a.characters || a.pieces - b.pieces || a.block.start - b.block.start);
  const spell = (r: (typeof ranked)[number]): string =>
    `${r.pieces} pieces${r.characters < ranked[0]!.characters ? `, ${ranked[0]!.characters - r.characters} characters fewer` : ''}`;
  return {
    block: ranked[0]!.block,
    because: `it spells ${basename(list)} in ${spell(ranked[0]!)}, the fewest; the files do not name each block's language`,
    others: `; ${ranked
      .slice(1)
      .map((r) => `${range(r.block)}: ${spell(r)}`)
      .join(', ')}`,
  };
}

/** The detection lines on decoding and score, shared by both layouts. */
export function canaryDescription(scoring: CanaryScoring, settings: DecodingSettings, language: string): string[] {
  return [
    `decoding: greedy with the decoder memories, prompt ${JSON.stringify(settings.prompt)} (canary2 format: ${settings.prompt.length === 10 ? '"▁" first as onnx-asr feeds it, ' : ''}<|${language}|> to <|${language}|>, transcribe with punctuation, no ITN, no timestamps), max_sequence_length ${settings.maxLength}`,
    'reference score: teacher-forced decoder log-likelihood of the text ("▁" + each word in the vocabulary\'s pieces), then <|endoftext|> ("decoder score")',
    ...scoring.describe,
  ];
}

function range(b: TokenBlock): string {
  return `ids ${b.start}-${b.end - 1}`;
}
