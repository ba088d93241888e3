import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildVocabulary, detokenize, parseTokenFile, tokenizeReference } from '../../src/asr/index.ts';

const W = '\u2581';

test('tokens.txt: "<piece> <id>" lines, a space piece, out-of-order ids, gaps rejected', () => {
  const parsed = parseTokenFile(`<blk> 0\n  1\na 2\nb 3\n`, 'tokens.txt');
  assert.equal(parsed.pieces, ['<blk>', ' ', 'a', 'b']);
  assert.equal(parseTokenFile('b 1\na 0\n', 't').pieces, ['a', 'b']);
  assert.throws(() => parseTokenFile('a 0\nb 2\n', 'gap.txt'), /gap\.txt: no token has id 1/);
  assert.throws(() => parseTokenFile('a 0\nb 0\n', 'dup.txt'), /dup\.txt:2: id 0 appears twice/);
  assert.throws(() => parseTokenFile('\n', 'empty.txt'), /empty token file/);
});

test('a token listed twice is refused naming both lines: its ids would be ambiguous', () => {
  assert.throws(
    () => parseTokenFile('<blk> 0\na 1\nb 2\na 3\n', 'tokens.txt'),
    /tokens\.txt:4: the token "a" is listed again \(first on line 2\)/,
  );
  assert.throws(() => parseTokenFile('<blk>\nx\ny\nx\n', 'chars.txt'), /chars\.txt:4: the token "x" is listed again/);
  assert.throws(
    () => parseTokenFile('<unk>\nthe\n##s\nthe\n', 'vocab.txt'),
    /vocab\.txt:4: the token "\u2581the" is listed again \(first on line 2\)/,
  );
  assert.equal(parseTokenFile('<unk>\nthe\n##the\n', 'vocab.txt').pieces, ['<unk>', `${W}the`, 'the']);
});

test('NeMo vocab.txt: ## continuations become sentencepiece pieces; blank appended last', () => {
  const parsed = parseTokenFile(`<unk>\nthe\n##s\n##ing\na\n`, '/m/vocab.txt');
  assert.equal(parsed.pieces, ['<unk>', `${W}the`, 's', 'ing', `${W}a`]);
  const vocab = buildVocabulary(parsed, 'last', 'vocab.txt');
  assert.is(vocab.blankId, 5);
  assert.is(vocab.kind, 'sentencepiece');
  assert.is(detokenize(vocab, [1, 2, 4, 0, 5]), 'thes a');
});

test('character vocabularies: separator spellings and special tokens', () => {
  for (const separator of ['<space>', W, '|', ' ']) {
    const vocab = buildVocabulary(
      { pieces: ['<blank>', separator, 'a', 'b', "'", '<unk>'], nemoStyle: false },
      'from-file',
      't',
    );
    assert.is(vocab.kind, 'characters');
    assert.is(vocab.separatorId, 1, separator);
    assert.is(detokenize(vocab, [2, 1, 3, 4, 0, 5, 2]), "a b'a");
  }
  const noBlank = { pieces: ['a', 'b'], nemoStyle: false };
  assert.throws(
    () => buildVocabulary(noBlank, 'from-file', 'x.txt'),
    /x\.txt: no blank token; add a line "<blk> <id>"/,
  );
});

test('sentencepiece detokenization removes one leading space, as sherpa-onnx', () => {
  const vocab = buildVocabulary(
    { pieces: ['<unk>', `${W}the`, `${W}c`, 'at', 's', W, '<blk>'], nemoStyle: false },
    'from-file',
    't',
  );
  assert.is(detokenize(vocab, [1, 2, 3, 4]), 'the cats');
  assert.is(detokenize(vocab, [5, 3]), 'at');
});

test('reference tokenization, characters: case folding, separators, dropped characters noted', () => {
  const vocab = buildVocabulary({ pieces: ['<blank>', '<space>', 'a', 'b', 'c'], nemoStyle: false }, 'from-file', 't');
  const r = tokenizeReference(vocab, '  ABC  ba!\tz ');
  assert.equal(r.ids, [2, 3, 4, 1, 3, 2]);
  assert.is(r.characters, 'abc ba'.length);
  assert.equal(r.notes, ['reference characters not in the vocabulary were dropped: "!" "z"']);
});

test('reference tokenization, sentencepiece: fewest pieces, longest last piece on ties', () => {
  const vocab = buildVocabulary(
    {
      pieces: ['<unk>', `${W}the`, `${W}t`, 'h', 'e', `${W}c`, 'a', 't', 's', 'at', 'ats', W, '<blk>'],
      nemoStyle: false,
    },
    'from-file',
    't',
  );
  const ids = (text: string): string[] => tokenizeReference(vocab, text).ids.map((id) => vocab.pieces[id]!);
  assert.equal(ids('the cats'), [`${W}the`, `${W}c`, 'ats']);
  assert.equal(ids('The'), [`${W}the`]);
  assert.equal(ids('tat'), [`${W}t`, 'at']);
  const r = tokenizeReference(vocab, 'the cqat');
  assert.equal(
    r.ids.map((id) => vocab.pieces[id]),
    [`${W}the`, `${W}c`, 'at'],
  );
  assert.equal(r.notes, ['reference characters not in the vocabulary were dropped: "q"']);
  assert.is(r.characters, 'the cat'.length);
});

test.run();
