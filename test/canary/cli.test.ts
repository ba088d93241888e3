import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerGenerate } from '../../src/cli/generate.ts';
import {
  generateCanarySet,
  GENERATE_DEFAULTS,
  GENERATE_OPTION_SPECS,
  loadWordList,
  type CanarySet,
} from '../../src/canary/index.ts';
import { CANARY_LANGUAGES, canaryLanguage, languageWordlistPath } from '../../src/canary/languages.ts';
import { rejectsWithRoteError } from './helpers.ts';

function program(): Command {
  const root = new Command('rote').exitOverride().configureOutput({ writeErr: () => {} });
  registerGenerate(root);
  return root;
}

test('--help documents every API option with its default', () => {
  const generate = program().commands.find((c) => c.name() === 'generate')!;
  const help = generate.helpInformation({ error: false }).replace(/\s+/g, ' ');
  for (const spec of GENERATE_OPTION_SPECS) {
    const long = spec.flag.match(/--[a-z-]+/)![0];
    assert.ok(help.includes(long), `${long} missing from --help`);
    const camel = long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    assert.is(camel, spec.key, `${long} does not map to the API option ${spec.key}`);
    if (spec.key !== 'out') assert.ok(/\(default: [^)]/.test(spec.description), `${long} does not name its default`);
  }
  for (const [key, value] of Object.entries(GENERATE_DEFAULTS)) {
    const spec = GENERATE_OPTION_SPECS.find((s) => s.key === key)!;
    assert.ok(
      spec.description.includes(`(default: ${Array.isArray(value) ? value.join(',') : value}`),
      `--help shows a default for ${key} other than the API's`,
    );
  }
});

test('the command passes its flags to generateCanarySet unchanged', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rote-test-cli-'));
  try {
    const args = [
      '--seed',
      'cli',
      '--repetitions',
      '1,3',
      '--per-group',
      '1',
      '--holdout',
      '2',
      '--speed',
      '2.5',
      '--voices',
      'en-gb, en-us+m1',
      '--rate',
      '120',
      '--sample-rate',
      '8000',
    ];
    await program().parseAsync(['generate', '--out', join(root, 'cli'), '--quiet', ...args], { from: 'user' });
    const api = await generateCanarySet({
      out: join(root, 'api'),
      seed: 'cli',
      repetitions: [1, 3],
      perGroup: 1,
      holdout: 2,
      speed: 2.5,
      voices: ['en-gb', 'en-us+m1'],
      rate: 120,
      sampleRate: 8000,
    });
    assert.is(await readFile(join(root, 'cli', 'canary-set.json'), 'utf8'), await readFile(api.setPath, 'utf8'));
    let message = '';
    try {
      await program().parseAsync(['generate', '--out', join(root, 'x'), '--words', 'six'], { from: 'user' });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /--words <n>' argument 'six' is invalid\. expected an integer, got "six"/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('--list-languages prints every language with its word-list size, without --out', async () => {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
  let exitCode: number | undefined;
  try {
    await program().parseAsync(['generate', '--list-languages'], { from: 'user' });
  } catch (error) {
    exitCode = (error as { exitCode?: number }).exitCode;
  } finally {
    process.stdout.write = write;
  }
  assert.is(exitCode, 0);
  const text = written.join('');
  for (const language of CANARY_LANGUAGES) {
    const words = (await loadWordList(languageWordlistPath(language))).words.length;
    assert.match(
      text,
      new RegExp(`^${language.code} +${language.name.replace(/[()]/g, '\\$&')} +${language.script} +${words} `, 'm'),
    );
  }
});

test('--language picks the voices, word list and rate, and is recorded; an unknown one is refused', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rote-test-cli-'));
  try {
    const out = join(root, 'ru');
    await program().parseAsync(
      [
        'generate',
        '--out',
        out,
        '--quiet',
        '--seed',
        'cli-ru',
        '--language',
        'ru',
        '--repetitions',
        '1',
        '--per-group',
        '1',
        '--holdout',
        '1',
        '--words',
        '2',
      ],
      { from: 'user' },
    );
    const set = JSON.parse(await readFile(join(out, 'canary-set.json'), 'utf8')) as CanarySet;
    assert.is(set.parameters.language, 'ru');
    assert.is(set.parameters.rate, canaryLanguage('ru').rate);
    assert.equal(set.parameters.voices, [...canaryLanguage('ru').voices]);
    assert.is(set.parameters.wordlist.name, 'words-ru.txt');
    for (const canary of set.canaries) assert.match(canary.text, /^[а-яё]+ [а-яё]+$/);
    let message = '';
    try {
      await program().parseAsync(['generate', '--out', join(root, 'x'), '--language', 'xx'], { from: 'user' });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /--language <code>' argument 'xx' is invalid\. Allowed choices are en, de, fr/);
    await rejectsWithRoteError(
      () => generateCanarySet({ out: join(root, 'y'), language: 'de', voices: ['en-us'] }),
      /--voices: "en-us" is not a voice of the embedded espeak-ng for German/,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
