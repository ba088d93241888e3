import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasDigit, normalizeText, wordsOf } from '../../src/util/normalize-text.ts';
import { errorRates, normalizeTranscript } from '../../src/audit/stats/index.ts';

// Golden normalizations, one or more per script: [input, normalized].
const GOLDEN: [string, string, string][] = [
  ['Latin (English)', "Don't STOP -- the Quick, brown fox!", 'dont stop the quick brown fox'],
  ['Latin (German: case folding of ß, umlauts kept)', 'Die STRASSE ist groß.', 'die strasse ist gross'],
  ['Latin (German: ß and SS fold alike)', 'Straße', 'strasse'],
  [
    'Latin (French: diacritics kept, elision apostrophe)',
    "L'Élève a été À l’école « vite »",
    'lélève a été à lécole vite',
  ],
  ['Latin (combining accent composed by NFKC)', 'cafe\u0301 CAFÉ', 'café café'],
  ['Latin (Spanish: inverted marks removed by category)', '¿Qué PASÓ? ¡Niño!', 'qué pasó niño'],
  ['Latin (Polish)', 'ŻÓŁW, źdźbło.', 'żółw źdźbło'],
  ['Latin (Turkish dotted capital keeps its dot as a combining mark)', 'İyi', 'i\u0307yi'],
  ['Latin (full-width forms folded by NFKC)', 'ＡＢＣ　ｄｅｆ', 'abc def'],
  ['Latin (ligature folded by NFKC)', 'ﬁne', 'fine'],
  ['Cyrillic (Russian: case folded, ё kept)', 'Ёлка — ХОРОШО!', 'ёлка хорошо'],
  ['Greek (final sigma folds to σ)', 'ΟΔΟΣ οδός', 'οδοσ οδόσ'],
  ['Devanagari (vowel signs and virama kept, danda removed)', 'मैं घर जा रहा हूँ। क्या?', 'मैं घर जा रहा हूँ क्या'],
  ['Devanagari (zero-width joiner removed)', 'क्\u200dष', 'क्ष'],
  ['Arabic (harakat kept, tatweel and Arabic comma removed)', 'كِتَاب، مـدرسة؟', 'كِتَاب مدرسة'],
  ['Arabic (presentation forms folded by NFKC)', '\ufefb', '\u0644\u0627'],
  ['Han (Chinese punctuation removed by category)', '我们知道。你好，世界！', '我们知道 你好 世界'],
  ['Kana (half-width katakana folded by NFKC)', 'ｶﾀｶﾅ、ありがとう。', 'カタカナ ありがとう'],
  ['Hangul (jamo composed by NFKC)', '\u1100\u1161 사랑!', '가 사랑'],
];

for (const [script, input, expected] of GOLDEN) {
  test(`normalizeText: ${script}`, () => {
    assert.is(normalizeText(input), expected);
    assert.is(normalizeTranscript(input), expected, 'audit uses the same normalization');
    assert.is(normalizeText(expected), expected, 'normalization is idempotent');
  });
}

test('digits of every script are found (canaries refuse them)', () => {
  for (const text of ['room 12', 'कमरा १२', 'غرفة ١٢', '房间１２']) assert.ok(hasDigit(normalizeText(text)), text);
  for (const text of ['room twelve', 'двенадцать', '十二']) assert.not.ok(hasDigit(normalizeText(text)), text);
});

test('WER counts characters in scripts written without spaces, words elsewhere', () => {
  assert.equal(wordsOf('我们知道'), ['我', '们', '知', '道']);
  assert.equal(wordsOf('ありがとう カタカナ'), ['あ', 'り', 'が', 'と', 'う', 'カ', 'タ', 'カ', 'ナ']);
  assert.equal(wordsOf('ok我们 good'), ['ok', '我', '们', 'good']);
  assert.equal(wordsOf('дом хорошо'), ['дом', 'хорошо']);
  assert.equal(wordsOf(''), []);
  const chinese = errorRates('我们知道现在', '我们知到现在');
  assert.is(chinese.referenceWords, 6);
  assert.is(chinese.wordEdits, 1);
  assert.is(chinese.characterEdits, 1);
  const russian = errorRates('Ёлка хорошо', 'ёлка харашо');
  assert.is(russian.referenceWords, 2);
  assert.is(russian.wordEdits, 1);
  assert.is(russian.characterEdits, 2);
  // A dropped diacritic is an error, punctuation and case are not.
  assert.is(errorRates('élève', 'eleve').characterEdits, 2);
  assert.ok(errorRates('मैं घर', 'मैं, घर।').exactMatch);
  assert.ok(errorRates('STRASSE', 'straße').exactMatch);
});

test.run();
