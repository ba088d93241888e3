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
 * "<|...|>" token. As NeMo's GreedySequenceGenerator (transformer_generators.py, through
 * multitask_greedy_decoding.py), <|endoftext|> may be the first generated token (an empty
 * transcript); sherpa-onnx 1.13.8 never takes it first for audio with signal.
 * Score: the teacher-forced decoder log-likelihood of the canary text (each word "▁" + word in the
 * pieces of the language's own vocabulary: canaryScoring), then <|endoftext|>.
 */
import { readFile } from 'node:fs/promises';
import { RoteError } from '../../util/errors.ts';
import { CANARY_LANGUAGES, languageWordlistPath } from '../../canary/languages.ts';
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
 * SentencePiece model spells it, its ids offset by the start of L's block, and has no vocabulary
 * for a language it was not given one for. The token files concatenate the blocks (the special
 * tokens' first) but do not name each text block's language (the order lives in the .nemo's
 * tokenizer.langs), so rote infers it (blockLanguages). A file with one block (canary-1b-v2's
 * single tokenizer) keeps each piece's first id; one with a single text block spells every
 * language with it.
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
  if (textBlocks.length === 1)
    return {
      vocabulary: { ...v.vocabulary, referencePieces: blockPieces(v, textBlocks[0]!) },
      describe: [
        `tokenizer: the special tokens' SentencePiece vocabulary and one text vocabulary (${range(textBlocks[0]!)}), which spells the reference in every language`,
      ],
    };
  const { owners, best } = await blockLanguages(v, textBlocks);
  const own = textBlocks.find((b) => owners.get(b) === language);
  const named = textBlocks.map((b) => `${range(b)} ${owners.get(b) ?? "(none of rote's languages)"}`).join(', ');
  if (!own) {
    const nearest = best.get(language);
    throw new RoteError(
      `${v.vocabulary.source}: none of the ${textBlocks.length} text vocabularies of this Canary's aggregate tokenizer is "${language}"'s own (${named}${nearest ? `; ${range(nearest)}, ${owners.get(nearest)}'s, spell it best` : ''}): NeMo tokenizes a transcript with its language's own vocabulary, so the model was not trained on "${language}" text; audit it with canaries in one of its languages`,
    );
  }
  const specials = v.blocks.filter((b) => !textBlocks.includes(b)).map(range);
  return {
    vocabulary: { ...v.vocabulary, referencePieces: blockPieces(v, own) },
    describe: [
      `tokenizer: NeMo's aggregate tokenizer, ${v.blocks.length} SentencePiece vocabularies each from its own <unk> (special tokens ${specials.join(', ')}; ${named}: each text block's language is the one, among those with a prompt token, whose word list it spells best against the other blocks; the files do not name them); the reference in "${language}" is spelled with the pieces of ${range(own)}, as NeMo tokenizes a transcript with its language's vocabulary`,
    ],
  };
}

/** Words of each language's list that measure how well a block spells it. */
const SAMPLE_WORDS = 1000;

/**
 * Each text block's language: for every rote language with a prompt token in the file, the cost
 * of spelling the first SAMPLE_WORDS of its word list with each block (pieces, plus one per
 * character no piece covers, as SentencePiece's <unk>); its best block, and the margin (the
 * second-best cost over the best). A block belongs to the language with the largest margin among
 * those it is best for: a vocabulary trained on L spells L far more compactly than the others do,
 * and more so than a related language it was not trained on.
 */
async function blockLanguages(
  v: CanaryVocabulary,
  blocks: TokenBlock[],
): Promise<{ owners: Map<TokenBlock, string>; best: Map<string, TokenBlock> }> {
  const indexes = blocks.map((block) => ({ ...v.vocabulary, referencePieces: blockPieces(v, block) }));
  const owners = new Map<TokenBlock, string>();
  const margins = new Map<TokenBlock, number>();
  const best = new Map<string, TokenBlock>();
  for (const language of CANARY_LANGUAGES) {
    if (!v.ids.has(`<|${language.code}|>`)) continue;
    const sample = (await loadWordList(languageWordlistPath(language))).words.slice(0, SAMPLE_WORDS).join(' ');
    const costs = indexes.map((index) => {
      const spelled = tokenizeReference(index, sample);
      return spelled.ids.length + (sample.length - spelled.characters);
    });
    const order = costs.map((_, i) => i).sort((a, b) => costs[a]! - costs[b]! || a - b);
    const first = blocks[order[0]!]!;
    const margin = order.length > 1 ? costs[order[1]!]! / costs[order[0]!]! : Infinity;
    best.set(language.code, first);
    if (margin > (margins.get(first) ?? 0)) {
      margins.set(first, margin);
      owners.set(first, language.code);
    }
  }
  return { owners, best };
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
