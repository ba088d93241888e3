import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EspeakCore } from '../../src/canary/espeak-engine.mjs';
import { CANARY_LANGUAGES, canaryLanguage, languageWordlistPath } from '../../src/canary/languages.ts';
import {
  characterRate,
  charactersPerSecond,
  FAST_CHARACTERS_PER_SECOND,
  speakingRateWarnings,
} from '../../src/canary/speaking-rate.ts';
import { makeCanaryTexts } from '../../src/canary/text.ts';
import { validateEspeakVoice } from '../../src/canary/voices.ts';
import { loadWordList } from '../../src/canary/words.ts';
import { GENERATE_DEFAULTS } from '../../src/canary/options.ts';
import { normalizeText } from '../../src/util/normalize-text.ts';
import { pcm16WavToFloat } from '../../src/canary/espeak-engine.mjs';

const engine = await EspeakCore.create();

function speak(text: string, voice: string, rate: number): Float32Array {
  const result = engine.synthesizeWav(text, { voice, rate });
  if (result.problem !== undefined) throw new Error(result.problem);
  return pcm16WavToFloat(result.wav).samples;
}

/** Seconds between the first and last sample above -40 dBFS (espeak-ng pads with silence). */
function speechSeconds(samples: Float32Array, sampleRate = 22050): number {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) > 0.01) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? 0 : (last - first) / sampleRate;
}

/** Syllabic scripts (one character a syllable) speak longer per character than alphabets. */
const SECONDS_PER_CHARACTER: Record<string, [number, number]> = {
  Han: [0.12, 0.6],
  Kana: [0.06, 0.4],
  Hangul: [0.1, 0.5],
  // An abugida and an abjad: vowels are signs on a consonant or not written, so fewer characters per sound.
  Devanagari: [0.04, 0.3],
  Arabic: [0.04, 0.3],
};
const ALPHABET: [number, number] = [0.03, 0.2];

test('every language has its word list, voices that exist in the wasm build and speak', async () => {
  assert.ok(CANARY_LANGUAGES.length >= 13, `${CANARY_LANGUAGES.length} languages`);
  assert.ok(new Set(CANARY_LANGUAGES.map((language) => language.script)).size >= 8, 'at least 8 scripts');
  for (const language of CANARY_LANGUAGES) {
    const list = await loadWordList(languageWordlistPath(language));
    // Hindi: the frequency source holds 582 Devanagari entries, debris removed (canaries/README.md).
    assert.ok(
      list.words.length >= (language.code === 'hi' ? 400 : 500),
      `${language.code}: ${list.words.length} words`,
    );
    // espeak-ng fails on a voice it does not have (speak throws): every base and default voice speaks.
    for (const base of language.bases)
      assert.ok(speechSeconds(speak(list.words[0]!, base, 100)) > 0.1, `${base} says nothing`);
    for (const voice of language.voices) {
      validateEspeakVoice(voice, '--voices', language);
      assert.ok(speechSeconds(speak(list.words[0]!, voice, 100)) > 0.1, `${voice} says nothing`);
    }
  }
  assert.throws(
    () => validateEspeakVoice('en-us', '--voices', canaryLanguage('de')),
    /not a voice of the embedded espeak-ng for German/,
  );
  assert.throws(() => canaryLanguage('xx'), /no canary language "xx"/);
});

test('espeak-ng reads every sampled word in its own language: none is spelled out or read through another language', async () => {
  for (const language of CANARY_LANGUAGES) {
    // Every 25th word of the list (200 of 5000), each read alone as one sentence.
    {
      const list = await loadWordList(languageWordlistPath(language));
      const sample = list.words.filter((_, i) => i % 25 === 0);
      const read = engine.phonemes(`${sample.join('.\n')}.`, language.voices[0]!);
      assert.is(read.problem, undefined);
      const lines = read.phonemes!.split('\n');
      assert.is(lines.length, sample.length, `${language.code}: one reading per word`);
      lines.forEach((line, i) => {
        assert.ok(line.length > 0, `${language.code}: "${sample[i]}" is read as nothing`);
        assert.not.match(
          line,
          /\([a-z-]+\)/,
          `${language.code}: "${sample[i]}" is read through another language: ${line}`,
        );
      });
    }
  }
});

test("each language's audio lasts a plausible time per character, and its default rate gives about English's characters per second", async () => {
  const measured = new Map<string, number>();
  for (const language of CANARY_LANGUAGES) {
    const list = await loadWordList(languageWordlistPath(language));
    const texts = makeCanaryTexts({
      count: 6,
      wordsPerCanary: 4,
      words: list.words.slice(0, 2000),
      seed: `languages-${language.code}`,
      separator: language.spaces ? ' ' : '',
    });
    const rates: number[] = [];
    texts.forEach((text, i) => {
      const samples = speak(text, language.voices[i % language.voices.length]!, language.rate);
      const characters = [...normalizeText(text).replace(/ /g, '')].length;
      const perCharacter = speechSeconds(samples) / characters;
      const [low, high] = SECONDS_PER_CHARACTER[language.script] ?? ALPHABET;
      assert.ok(
        perCharacter >= low && perCharacter <= high,
        `${language.code} "${text}": ${perCharacter.toFixed(3)} s per character, expected ${low}..${high} (spelled out letter by letter, or silent?)`,
      );
      rates.push(charactersPerSecond(text, samples.length / 22050 / GENERATE_DEFAULTS.speed));
    });
    rates.sort((a, b) => a - b);
    measured.set(language.code, rates[Math.floor(rates.length / 2)]!);
  }
  const english = measured.get('en')!;
  assert.ok(english < FAST_CHARACTERS_PER_SECOND, `English defaults give ${english.toFixed(1)} characters/s`);
  for (const language of CANARY_LANGUAGES) {
    const rate = measured.get(language.code)!;
    // At the language's default rate: no faster than English by more than 15% (the warning's threshold is above that).
    assert.ok(
      rate <= english * 1.15,
      `${language.code}: ${rate.toFixed(1)} characters/s at ${language.rate} wpm x${GENERATE_DEFAULTS.speed}, English ${english.toFixed(1)}`,
    );
    // A rate below 100 wpm only where 100 wpm would be faster than English.
    if (language.rate < 100)
      assert.ok(
        (rate * 100) / language.rate > english,
        `${language.code}: default ${language.rate} wpm although 100 wpm would give ${((rate * 100) / language.rate).toFixed(1)} characters/s`,
      );
  }
});

test('characters per second count the normalized text (spaces included), and warn above the threshold', () => {
  // "дом, хорошо!" normalizes to "дом хорошо": 10 characters.
  assert.is(charactersPerSecond('Дом, хорошо!', 0.5), 20);
  assert.is(charactersPerSecond('我们知道', 0.5), 8);
  const slow = characterRate([
    { text: 'дом хорошо', durationSec: 1 },
    { text: 'дом хорошо', durationSec: 0.5 },
    { text: 'дом хорошо', durationSec: 0.25 },
  ]);
  assert.equal(slow, { median: 20, fastest: 40 });
  assert.equal(speakingRateWarnings(slow), []);
  const fast = characterRate([
    { text: 'дом хорошо', durationSec: 0.3 },
    { text: 'дом хорошо', durationSec: 0.25 },
  ]);
  assert.ok(fast.median > FAST_CHARACTERS_PER_SECOND);
  assert.match(speakingRateWarnings(fast)[0]!, /spoken at 40 characters per second \(median; fastest 40\)/);
});

test.run();
