/**
 * Hugging Face `Wav2Vec2CTCTokenizer` files, as `save_pretrained` (and Optimum's export)
 * writes them next to the model:
 * - vocab.json: token -> id (or, for multilingual MMS vocabularies, language -> {token -> id},
 *   chosen by tokenizer_config.json `target_lang`);
 * - added_tokens.json (optional): token -> id for tokens added after the vocabulary (often
 *   `<s>` and `</s>` when the vocabulary was built from the training text);
 * - tokenizer_config.json: `pad_token` (the CTC blank), `unk_token`, `bos_token`, `eos_token`,
 *   `word_delimiter_token` ("|"), `replace_word_delimiter_char` (" "), `do_lower_case`,
 *   `clean_up_tokenization_spaces`, and `added_tokens_decoder` (id -> {content}) in newer files;
 * - special_tokens_map.json (optional): the special tokens again (read when present).
 *
 * Text from CTC ids follows the ASR pipeline, which decodes CTC output with
 * skip_special_tokens=False: repeats grouped, the pad token dropped, the delimiter replaced,
 * tokens joined, whitespace stripped at both ends, lower-cased when do_lower_case, then
 * `clean_up_tokenization` when clean_up_tokenization_spaces. Other special tokens
 * ([UNK], <s>) stay in the text as written, as in Hugging Face.
 */
import { RoteError } from '../util/errors.ts';
import type { Vocabulary } from './vocabulary.ts';

export interface HfTokenizer {
  vocabulary: Vocabulary;
  /** id -> token text (every id below the model's class count). */
  tokens: string[];
  padToken: string;
  delimiterToken: string;
  replaceDelimiterWith: string;
  doLowerCase: boolean;
  cleanUpSpaces: boolean;
}

export interface HfTokenizerFiles {
  vocab: { path: string; value: unknown };
  tokenizerConfig: { path: string; value: unknown };
  addedTokens?: { path: string; value: unknown } | undefined;
  specialTokensMap?: { path: string; value: unknown } | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A special-token entry is a string or an AddedToken object ({ content: "..." }). */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  return null;
}

function tokenIds(value: unknown, path: string, what: string): Map<string, number> {
  if (!isRecord(value)) throw new RoteError(`${path}: ${what} must be a JSON object mapping tokens to ids`);
  const ids = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      throw new RoteError(
        `${path}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, expected an integer >= 0`,
      );
    ids.set(token, id as number);
  }
  return ids;
}

/**
 * Builds the tokenizer of `classes` output classes (config.json vocab_size / the logits width)
 * from the parsed files. Pure; errors name the file and field.
 */
export function buildHfTokenizer(files: HfTokenizerFiles, classes: number): HfTokenizer {
  const config = files.tokenizerConfig.value;
  const configPath = files.tokenizerConfig.path;
  if (!isRecord(config)) throw new RoteError(`${configPath}: must be a JSON object`);
  const special = isRecord(files.specialTokensMap?.value) ? files.specialTokensMap.value : {};
  const setting = (key: string, fallback: string): string =>
    tokenText(config[key]) ?? tokenText(special[key]) ?? fallback;

  let vocab = files.vocab.value;
  const targetLang = typeof config.target_lang === 'string' ? config.target_lang : null;
  if (isRecord(vocab) && Object.values(vocab).some(isRecord)) {
    if (!targetLang || !isRecord(vocab[targetLang])) {
      throw new RoteError(
        `${files.vocab.path}: a vocabulary per language (${Object.keys(vocab).slice(0, 5).join(', ')}, ...); set "target_lang" in ${configPath} to the model's language`,
      );
    }
    vocab = vocab[targetLang];
  }
  // id -> token as Wav2Vec2CTCTokenizer.convert_ids_to_tokens: the vocabulary first (a token
  // listed later wins an id, as its {v: k} decoder), added tokens only for ids it lacks
  const ids = tokenIds(vocab, files.vocab.path, 'the vocabulary');
  const tokens: string[] = [];
  for (const [token, id] of ids) tokens[id] = token;
  const added = files.addedTokens ? [...tokenIds(files.addedTokens.value, files.addedTokens.path, 'added tokens')] : [];
  if (isRecord(config.added_tokens_decoder)) {
    for (const [id, entry] of Object.entries(config.added_tokens_decoder)) {
      const text = tokenText(entry);
      if (text !== null && /^\d+$/.test(id)) added.push([text, Number(id)]);
    }
  }
  for (const [token, id] of added) {
    if (!ids.has(token)) ids.set(token, id);
    if (tokens[id] === undefined) tokens[id] = token;
  }
  if (tokens.length > classes) {
    throw new RoteError(
      `${files.vocab.path}: token ids run to ${tokens.length - 1} but the model has ${classes} output classes (config.json vocab_size); use the tokenizer files that came with the model`,
    );
  }
  const padToken = setting('pad_token', '<pad>');
  const unkToken = setting('unk_token', '<unk>');
  const delimiterToken = setting('word_delimiter_token', '|');
  const blankId = ids.get(padToken);
  if (blankId === undefined)
    throw new RoteError(
      `${configPath}: pad_token ${JSON.stringify(padToken)} (the CTC blank) is not in ${files.vocab.path}`,
    );
  const specialIds = new Set<number>([blankId]);
  const additional = Array.isArray(config.additional_special_tokens) ? config.additional_special_tokens : [];
  for (const name of [
    unkToken,
    setting('bos_token', '<s>'),
    setting('eos_token', '</s>'),
    ...additional.map(tokenText),
  ]) {
    const id = name === null ? undefined : ids.get(name);
    if (id !== undefined) specialIds.add(id);
  }
  for (let id = 0; id < classes; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = unkToken;
      specialIds.add(id);
    }
  }
  const separatorId = ids.get(delimiterToken) ?? null;
  const unkId = ids.get(unkToken) ?? null;
  return {
    vocabulary: {
      pieces: tokens,
      blankId,
      kind: 'characters',
      separatorId,
      specialIds,
      unkId,
      source: files.vocab.path,
    },
    tokens,
    padToken,
    delimiterToken,
    replaceDelimiterWith:
      typeof config.replace_word_delimiter_char === 'string' ? config.replace_word_delimiter_char : ' ',
    doLowerCase: config.do_lower_case === true,
    cleanUpSpaces: config.clean_up_tokenization_spaces === true,
  };
}

const CLEAN_UP: [string, string][] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

/**
 * The text Hugging Face's ASR pipeline gives for greedy CTC output, from rote's greedy ids
 * (repeats already collapsed and blanks dropped, as the tokenizer's grouping does). Pure.
 */
export function hfCtcText(tokenizer: HfTokenizer, ids: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const token = tokenizer.tokens[ids[i]!] ?? '';
    if (token === tokenizer.padToken) continue;
    parts.push(token === tokenizer.delimiterToken ? tokenizer.replaceDelimiterWith : token);
  }
  let text = parts.join('').trim();
  if (tokenizer.doLowerCase) text = text.toLowerCase();
  if (tokenizer.cleanUpSpaces) for (const [from, to] of CLEAN_UP) text = text.replaceAll(from, to);
  return text;
}
