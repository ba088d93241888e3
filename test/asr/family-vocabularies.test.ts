/**
 * Token files of the Hugging Face, WeNet and Zipformer CTC families: rote's text from the
 * reference's greedy ids and rote's reference tokenization equal the golden values that
 * scripts/models/ctc_family_reference.py wrote (HF tokenizer rules, sherpa-onnx / WeNet symbols).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHfTokenizer, hfCtcText, type HfTokenizerFiles } from '../../src/asr/hf-tokenizer.ts';
import { detokenize, loadVocabulary, tokenizeReference } from '../../src/asr/vocabulary.ts';
import { RoteError } from '../../src/util/errors.ts';

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

interface Golden {
  utterances: { id: string; tokenIds: number[]; transcript: string; reference: string; targets: number[] }[];
}

const golden = (family: string): Golden =>
  JSON.parse(readFileSync(`${MODELS}ctc-reference/${family}.json`, 'utf8')) as Golden;

function jsonFile(path: string): { path: string; value: unknown } {
  return { path, value: JSON.parse(readFileSync(path, 'utf8')) };
}

function hfFiles(dir = `${MODELS}hf-ctc/`): HfTokenizerFiles {
  return {
    vocab: jsonFile(`${dir}vocab.json`),
    tokenizerConfig: jsonFile(`${dir}tokenizer_config.json`),
    addedTokens: jsonFile(`${dir}added_tokens.json`),
    specialTokensMap: jsonFile(`${dir}special_tokens_map.json`),
  };
}

test('Hugging Face tokenizer: blank = pad token (last here), added tokens after it, specials never in references', () => {
  const config = jsonFile(`${MODELS}hf-ctc/config.json`).value as { vocab_size: number; pad_token_id: number };
  const tokenizer = buildHfTokenizer(hfFiles(), config.vocab_size);
  const { vocabulary } = tokenizer;
  assert.is(vocabulary.pieces.length, config.vocab_size);
  assert.is(vocabulary.blankId, config.pad_token_id);
  assert.is(vocabulary.pieces[vocabulary.blankId], '[PAD]');
  assert.is(vocabulary.pieces[vocabulary.separatorId!], '|');
  assert.equal(
    [...vocabulary.specialIds].sort((a, b) => a - b).map((id) => vocabulary.pieces[id]),
    ['[UNK]', '[PAD]', '<s>', '</s>'],
  );
});

test('Hugging Face tokenizer: transcripts and reference tokens equal the reference implementation', () => {
  const tokenizer = buildHfTokenizer(hfFiles(), 32);
  for (const utt of golden('hf-ctc').utterances) {
    assert.is(hfCtcText(tokenizer, utt.tokenIds), utt.transcript, utt.id);
    assert.equal(tokenizeReference(tokenizer.vocabulary, utt.reference).ids, utt.targets, utt.id);
  }
});

test('Hugging Face tokenizer: delimiters at the ends are stripped, do_lower_case and clean-up apply', () => {
  const files = hfFiles();
  const base = files.tokenizerConfig.value as Record<string, unknown>;
  const vocab = files.vocab.value as Record<string, number>;
  const ids = (text: string) => [...text].map((c) => vocab[c === ' ' ? '|' : c]!);
  const plain = buildHfTokenizer(
    {
      ...files,
      tokenizerConfig: { ...files.tokenizerConfig, value: { ...base, clean_up_tokenization_spaces: false } },
    },
    32,
  );
  assert.is(hfCtcText(plain, ids(" it 's a dog ")), "it 's a dog");
  const cleaned = buildHfTokenizer(files, 32);
  assert.is(hfCtcText(cleaned, ids(" it 's a dog ")), "it's a dog");
  const upper = Object.fromEntries(Object.entries(vocab).map(([t, id]) => [t.length === 1 ? t.toUpperCase() : t, id]));
  const lowerCasing = buildHfTokenizer(
    {
      ...files,
      vocab: { path: 'vocab.json', value: upper },
      tokenizerConfig: { ...files.tokenizerConfig, value: { ...base, do_lower_case: true } },
    },
    32,
  );
  assert.is(hfCtcText(lowerCasing, [upper.D!, upper.O!, upper['|']!, upper.G!]), 'do g');
  // the vocabulary is upper case: references are upper-cased to it, as the tokenizer does with do_lower_case
  assert.equal(tokenizeReference(lowerCasing.vocabulary, 'do g').ids, [upper.D, upper.O, upper['|'], upper.G]);
});

test('Hugging Face tokenizer: per-language vocabularies use target_lang; bad files are named', () => {
  const files = hfFiles();
  const base = files.tokenizerConfig.value as Record<string, unknown>;
  const nested = { path: 'vocab.json', value: { eng: files.vocab.value, fra: { a: 0 } } };
  const chosen = buildHfTokenizer(
    { ...files, vocab: nested, tokenizerConfig: { ...files.tokenizerConfig, value: { ...base, target_lang: 'eng' } } },
    32,
  );
  assert.is(chosen.vocabulary.pieces[5], 'd');
  assert.throws(
    () => buildHfTokenizer({ ...files, vocab: nested }, 32),
    (e: unknown) => e instanceof RoteError && /target_lang/.test((e as Error).message),
  );
  assert.throws(
    () => buildHfTokenizer(files, 20),
    (e: unknown) => e instanceof RoteError && /20 output classes/.test((e as Error).message),
  );
  assert.throws(
    () =>
      buildHfTokenizer(
        { ...files, tokenizerConfig: { ...files.tokenizerConfig, value: { ...base, pad_token: '<pad>' } } },
        32,
      ),
    (e: unknown) =>
      e instanceof RoteError && /pad_token "<pad>" \(the CTC blank\) is not in/.test((e as Error).message),
  );
});

test('Hugging Face tokenizer: an id listed twice reads as its last token (the {v: k} decoder); added tokens fill only free ids', () => {
  const files = hfFiles();
  const vocab = { ...(files.vocab.value as Record<string, number>), ' ': 1 }; // "|" and " " both id 1; " " comes last
  const tokenizer = buildHfTokenizer(
    {
      ...files,
      vocab: { path: 'vocab.json', value: vocab },
      addedTokens: { path: 'added_tokens.json', value: { '<s>': 30, '</s>': 31, x: 2 } },
    },
    32,
  );
  assert.is(tokenizer.tokens[1], ' ');
  assert.is(tokenizer.tokens[2], 'a', 'the vocabulary keeps id 2');
  assert.is(tokenizer.tokens[31], '</s>');
});

for (const [family, file] of [
  ['sherpa-wenet-ctc', 'sherpa-wenet-ctc/tokens.txt'],
  ['wenet-ctc', 'wenet-ctc/units.txt'],
  ['zipformer-ctc', 'zipformer-ctc/tokens.txt'],
] as const) {
  test(`${file}: blank 0, transcripts and reference tokens equal the reference implementation`, async () => {
    const vocabulary = await loadVocabulary(`${MODELS}${file}`, 'from-file');
    assert.is(vocabulary.blankId, 0);
    assert.is(vocabulary.kind, 'sentencepiece');
    for (const utt of golden(family).utterances) {
      assert.is(detokenize(vocabulary, utt.tokenIds), utt.transcript, utt.id);
      assert.equal(tokenizeReference(vocabulary, utt.reference).ids, utt.targets, utt.id);
    }
  });
}

test.run();
