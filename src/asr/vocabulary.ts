/**
 * Model vocabularies: reading token files, turning token ids into text and a
 * reference text into token ids (for the CTC forced score).
 *
 * Files:
 * - sherpa-onnx / icefall `tokens.txt`: one "<piece> <id>" per line. The piece is
 *   everything before the last run of whitespace, so a line "  3" is the piece " ".
 *   A file whose lines carry no id (one piece per line) numbers them from 0.
 * - NeMo `vocab.txt` (next to a SentencePiece tokenizer): one piece per line, word-
 *   initial pieces without "▁", continuation pieces prefixed "##". Read back into
 *   SentencePiece form ("▁the", "s"). NeMo's blank is not in the file: it is id V.
 *
 * Kinds:
 * - 'sentencepiece' (some piece longer than one character starts with "▁"): the
 *   text is the concatenated pieces with every "▁" read as a space, one leading
 *   space removed (as sherpa-onnx does).
 * - 'characters': each token is one character; the word separator is the token
 *   written "<space>", "▁", "|" or " " (the first found, in that order), read as a
 *   space. Other tokens in angle brackets (<unk>, <blk>, <s>, ...) are special and
 *   never appear in text.
 *
 * Reference tokenization:
 * - characters: the text is lowercased (or uppercased) when the vocabulary has
 *   letters of one case only, whitespace runs become one separator, and characters
 *   outside the vocabulary are dropped with a note.
 * - sentencepiece: same case rule; each whitespace-separated word, prefixed "▁", is
 *   segmented into vocabulary pieces by dynamic programming: the segmentation that
 *   covers the most characters with the FEWEST pieces (on a tie, the one whose last
 *   piece is longest, recursively from the end). Without the
 *   tokenizer's model file this is a stand-in for SentencePiece's own encoding
 *   (usually equal for frequent words; it can differ for rare ones). Characters
 *   no piece covers are dropped with a note.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RoteError } from '../util/errors.ts';

export type VocabularyKind = 'sentencepiece' | 'characters' | 'byte-level-bpe';

/**
 * A model's own tokenizer (byte-level BPE from tokenizer.json, read with a maintained
 * library): when a vocabulary has one, text goes through it both ways instead of
 * the piece tables.
 */
export interface TextTokenizer {
  /** The ids of a reference transcript, as the model's tokenizer writes it (no special tokens added). */
  encodeReference(reference: string): number[];
  /** The text of generated ids, special tokens skipped. */
  decode(ids: number[]): string;
}

export interface Vocabulary {
  /** pieces[id]: the token's text as written in the file (sentencepiece form). */
  pieces: string[];
  blankId: number;
  kind: VocabularyKind;
  /** Characters kind: the id of the word separator, or null when there is none. */
  separatorId: number | null;
  /** Ids never written into text (angle-bracket tokens and the blank). */
  specialIds: Set<number>;
  unkId: number | null;
  source: string;
  tokenizer?: TextTokenizer;
  /**
   * The pieces a reference is spelled with, and their ids, when not every piece at its first id (NeMo
   * Canary's aggregate tokenizer: one SentencePiece vocabulary per language, the text in its own).
   */
  referencePieces?: ReadonlyMap<string, number>;
}

const WORD_START = '\u2581';
const SEPARATOR_SPELLINGS = ['<space>', WORD_START, '|', ' '];
const BLANK_SPELLINGS = ['<blk>', '<blank>', '<eps>'];

export interface ParsedTokenFile {
  pieces: string[];
  /** NeMo vocab.txt: the file holds no blank; it is appended as the last id. */
  nemoStyle: boolean;
}

/** Parses a tokens.txt / vocab.txt body; `source` names it in errors. Pure. */
export function parseTokenFile(text: string, source: string): ParsedTokenFile {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0)
    throw new RoteError(`${source}: empty token file; it must list one token per line ("<piece> <id>")`);
  const withIds = lines.map((line) => /^(.+?)\s+(\d+)$/.exec(line) ?? /^(\s)\s*(\d+)$/.exec(line));
  const allHaveIds = withIds.every((match) => match !== null);
  if (allHaveIds) {
    const pieces: string[] = [];
    withIds.forEach((match, lineIndex) => {
      const id = Number(match![2]);
      if (pieces[id] !== undefined) throw new RoteError(`${source}:${lineIndex + 1}: id ${id} appears twice`);
      pieces[id] = match![1]!;
    });
    for (let id = 0; id < pieces.length; id++) {
      if (pieces[id] === undefined)
        throw new RoteError(
          `${source}: no token has id ${id}; ids must run from 0 to ${pieces.length - 1} without gaps`,
        );
    }
    refuseDuplicateTokens(
      withIds.map((match) => match![1]!),
      source,
    );
    return { pieces, nemoStyle: false };
  }
  const nemoStyle = basename(source) === 'vocab.txt' || lines.some((line) => line.startsWith('##'));
  const pieces = nemoStyle
    ? lines.map((line) => {
        if (line.startsWith('<') && line.endsWith('>')) return line;
        if (line.startsWith('##')) return line.slice(2);
        return line === WORD_START ? WORD_START : WORD_START + line;
      })
    : lines;
  refuseDuplicateTokens(pieces, source);
  return { pieces, nemoStyle };
}

/** A token listed twice (`pieces[i]`: the token on line i + 1) would make its ids ambiguous: refused, naming both lines. */
function refuseDuplicateTokens(pieces: readonly string[], source: string): void {
  const firstLine = new Map<string, number>();
  pieces.forEach((piece, index) => {
    const earlier = firstLine.get(piece);
    if (earlier !== undefined)
      throw new RoteError(
        `${source}:${index + 1}: the token ${JSON.stringify(piece)} is listed again (first on line ${earlier}); a text could map to either id: the file must list each token once`,
      );
    firstLine.set(piece, index + 1);
  });
}

function isSpecial(piece: string): boolean {
  return piece.length > 2 && piece.startsWith('<') && piece.endsWith('>') && piece !== '<space>';
}

/**
 * Builds a vocabulary. `blankId`: 'last' (NeMo: blank = V, appended when the file
 * lacks it), 'from-file' (the id of <blk>/<blank>/<eps>), or a number.
 */
export function buildVocabulary(
  parsed: ParsedTokenFile,
  blank: 'last' | 'from-file' | number,
  source: string,
): Vocabulary {
  const pieces = [...parsed.pieces];
  let blankId: number;
  if (blank === 'last') {
    const last = pieces[pieces.length - 1]!;
    if (!BLANK_SPELLINGS.includes(last)) pieces.push('<blk>');
    blankId = pieces.length - 1;
  } else if (blank === 'from-file') {
    const found = BLANK_SPELLINGS.map((spelling) => pieces.indexOf(spelling)).find((id) => id >= 0);
    if (found === undefined)
      throw new RoteError(
        `${source}: no blank token; add a line "<blk> <id>" (or <blank>/<eps>) with the model's blank id`,
      );
    blankId = found;
  } else {
    if (!Number.isInteger(blank) || blank < 0 || blank >= pieces.length)
      throw new RoteError(`${source}: blank id ${blank} is outside the ${pieces.length} tokens`);
    blankId = blank;
  }
  const kind: VocabularyKind = pieces.some((p) => p.startsWith(WORD_START) && p.length > 1 && !isSpecial(p))
    ? 'sentencepiece'
    : 'characters';
  const specialIds = new Set<number>([blankId]);
  pieces.forEach((p, id) => {
    if (isSpecial(p)) specialIds.add(id);
  });
  let separatorId: number | null = null;
  if (kind === 'characters') {
    for (const spelling of SEPARATOR_SPELLINGS) {
      const id = pieces.indexOf(spelling);
      if (id >= 0 && id !== blankId) {
        separatorId = id;
        break;
      }
    }
  }
  const unk = pieces.indexOf('<unk>');
  return { pieces, blankId, kind, separatorId, specialIds, unkId: unk >= 0 ? unk : null, source };
}

/** Reads a token file and builds its vocabulary. */
export async function loadVocabulary(path: string, blank: 'last' | 'from-file' | number): Promise<Vocabulary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RoteError(
      `${path}: cannot read the vocabulary file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the model directory needs its tokens.txt`,
      { cause: error },
    );
  }
  return buildVocabulary(parseTokenFile(text, path), blank, path);
}

/** The text a token sequence spells. */
export function detokenize(vocabulary: Vocabulary, ids: ArrayLike<number>): string {
  if (vocabulary.tokenizer) return vocabulary.tokenizer.decode(Array.from(ids)).trim();
  let text = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (vocabulary.specialIds.has(id)) continue;
    if (vocabulary.kind === 'characters' && id === vocabulary.separatorId) text += ' ';
    else text += vocabulary.pieces[id] ?? '';
  }
  if (vocabulary.kind === 'sentencepiece') text = text.replaceAll(WORD_START, ' ');
  return text.startsWith(' ') ? text.slice(1) : text;
}

export interface ReferenceTokens {
  ids: number[];
  /** Characters of the normalized reference (spaces between words included). */
  characters: number;
  /** Characters of the reference no token can emit (dropped; a BPE model would need <unk> for them), in order of appearance. */
  missing: string[];
  notes: string[];
}

function caseFolder(vocabulary: Vocabulary): (text: string) => string {
  const letters = vocabulary.pieces.filter((_, id) => !vocabulary.specialIds.has(id)).join('');
  const hasLower = /\p{Ll}/u.test(letters);
  const hasUpper = /\p{Lu}/u.test(letters);
  if (hasLower && !hasUpper) return (text) => text.toLowerCase();
  if (hasUpper && !hasLower) return (text) => text.toUpperCase();
  return (text) => text;
}

/** A reference transcript in the model's tokens (see the module comment for the rules). Pure. */
export function tokenizeReference(vocabulary: Vocabulary, reference: string): ReferenceTokens {
  if (vocabulary.tokenizer) {
    const text = reference.trim().split(/\s+/u).join(' ');
    // Byte-level BPE spells any text: no character is missing.
    return {
      ids: text ? vocabulary.tokenizer.encodeReference(text) : [],
      characters: text.length,
      missing: [],
      notes: [],
    };
  }
  const fold = caseFolder(vocabulary);
  const words = fold(reference)
    .trim()
    .split(/\s+/u)
    .filter((w) => w.length > 0);
  const dropped = new Set<string>();
  const ids: number[] = [];
  const index = new Map<string, number>(vocabulary.referencePieces ?? []);
  if (!vocabulary.referencePieces)
    vocabulary.pieces.forEach((piece, id) => {
      if (!vocabulary.specialIds.has(id) && id !== vocabulary.separatorId && !index.has(piece)) index.set(piece, id);
    });
  const keptWords: string[] = [];
  if (vocabulary.kind === 'characters') {
    words.forEach((word) => {
      const kept: number[] = [];
      let keptText = '';
      for (const char of word) {
        const id = index.get(char);
        if (id === undefined) dropped.add(char);
        else {
          kept.push(id);
          keptText += char;
        }
      }
      if (kept.length === 0) return;
      if (ids.length > 0 && vocabulary.separatorId !== null) ids.push(vocabulary.separatorId);
      ids.push(...kept);
      keptWords.push(keptText);
    });
  } else {
    const maxPiece = Math.max(...[...index.keys()].map((p) => [...p].length));
    for (const word of words) {
      const chars = [...(WORD_START + word)];
      // best[i]: fewest pieces covering chars[0..i), with the covered-character count as the first criterion
      const cost: { covered: number; pieces: number; from: number; id: number }[] = [
        { covered: 0, pieces: 0, from: -1, id: -1 },
      ];
      for (let end = 1; end <= chars.length; end++) {
        // skipping chars[end-1] (uncovered) keeps the previous cost
        let best = { ...cost[end - 1]!, from: end - 1, id: -1 };
        for (let start = Math.max(0, end - maxPiece); start < end; start++) {
          const id = index.get(chars.slice(start, end).join(''));
          if (id === undefined) continue;
          const before = cost[start]!;
          const candidate = { covered: before.covered + (end - start), pieces: before.pieces + 1, from: start, id };
          if (
            candidate.covered > best.covered ||
            (candidate.covered === best.covered &&
              (candidate.pieces < best.pieces ||
                (candidate.pieces === best.pieces && best.id >= 0 && candidate.from < best.from)))
          )
            best = candidate;
        }
        cost[end] = best;
      }
      const wordIds: number[] = [];
      let keptText = '';
      for (let end = chars.length; end > 0;) {
        const step = cost[end]!;
        if (step.id >= 0) {
          wordIds.unshift(step.id);
          keptText = chars.slice(step.from, end).join('') + keptText;
        } else if (end - 1 > 0 || chars[0] !== WORD_START) dropped.add(chars[end - 1]!);
        end = step.from;
      }
      if (wordIds.length === 0) continue;
      ids.push(...wordIds);
      keptWords.push(keptText.replace(/^\u2581/u, ''));
    }
  }
  const notes =
    dropped.size > 0
      ? [
          `reference characters not in the vocabulary were dropped: ${[...dropped].map((c) => JSON.stringify(c)).join(' ')}`,
        ]
      : [];
  const characters = keptWords.join(' ').length;
  const folded = fold(reference);
  const missing = [...dropped].sort((a, b) => folded.indexOf(a) - folded.indexOf(b));
  return { ids, characters, missing, notes };
}
