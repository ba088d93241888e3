/**
 * The language reaches Whisper's prompt in every command: `rote transcribe --language`, or the
 * canary set's language with --canaries, and `rote check-canaries` with the set's language (as
 * the audit already does). An English-only Whisper given another language is refused, naming
 * why. On the tiny fixtures (scripts/models/make_whisper_model.py, make_whisper_sherpa_model.py),
 * multilingual with <|en|> and <|de|> only.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, transcribeFiles, type TranscribeItem } from '../../src/asr/index.ts';
import { checkCanaries } from '../../src/audit/index.ts';
import { generateCanarySet, readCanarySet } from '../../src/canary/index.ts';
import { MODELS, SPEECH, temporaryDirectory } from './helpers.ts';

const SHERPA = join(MODELS, 'whisper-sherpa');
const OPTIMUM = join(MODELS, 'whisper-optimum');
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
const UTTERANCES = ['utt-00', 'utt-01', 'utt-02', 'utt-03', 'utt-04', 'utt-05'];

const work = temporaryDirectory('whisper-language');
const sets: Record<'de' | 'fr', string> = { de: join(work.dir, 'set-de'), fr: join(work.dir, 'set-fr') };
const englishOnly = join(work.dir, 'english-only');

test.before(async () => {
  for (const language of ['de', 'fr'] as const)
    await generateCanarySet({
      out: sets[language],
      seed: `whisper-language-${language}`,
      language,
      words: 2,
      repetitions: [1],
      perGroup: 2,
      holdout: 2,
      concurrency: 1,
    });
  mkdirSync(englishOnly);
  // The Optimum fixture made English-only, as whisper-tiny.en's generation_config.json is: no lang_to_id.
  for (const name of readdirSync(OPTIMUM)) copyFileSync(join(OPTIMUM, name), join(englishOnly, name));
  const generation = JSON.parse(readFileSync(join(englishOnly, 'generation_config.json'), 'utf8'));
  delete generation.lang_to_id;
  delete generation.task_to_id;
  generation.is_multilingual = false;
  writeFileSync(join(englishOnly, 'generation_config.json'), JSON.stringify(generation));
});
test.after(() => work.remove());

async function apiTranscripts(dir: string, language: string, items: TranscribeItem[]): Promise<Map<string, string>> {
  const model = await loadModel(dir, { provider: 'cpu', language });
  const result = new Map<string, string>();
  try {
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) result.set(row.id, row.hypothesis);
  } finally {
    await model.close();
  }
  return result;
}

async function rote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [ROTE, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

function rowsOf(path: string): Map<string, string> {
  const rows = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; hypothesis: string });
  return new Map(rows.map((row) => [row.id, row.hypothesis]));
}

test('rote transcribe --language de prompts with <|de|>: the transcripts of the German prompt, not the English', async () => {
  const items = UTTERANCES.map((id) => ({ id, path: join(SPEECH, `${id}.wav`) }));
  const german = await apiTranscripts(SHERPA, 'de', items);
  const english = await apiTranscripts(SHERPA, 'en', items);
  assert.ok(
    [...german].some(([id, text]) => english.get(id) !== text),
    'the prompt language changes transcripts',
  );
  for (const [language, expected] of [
    ['de', german],
    ['en', english],
  ] as const) {
    const out = join(work.dir, `rows-${language}.jsonl`);
    const run = await rote([
      'transcribe',
      '--model',
      SHERPA,
      '--provider',
      'cpu',
      '--language',
      language,
      '--quiet',
      '--out',
      out,
      '--input',
      ...items.map((i) => i.path),
    ]);
    assert.is(run.code, 0, run.stderr);
    assert.equal(rowsOf(out), expected);
  }
});

test("rote transcribe --canaries uses the set's language; a --language other than the set's is refused", async () => {
  const set = await readCanarySet(sets.de);
  const items = set.canaries.map((c) => ({ id: c.id, path: join(sets.de, c.audio) }));
  const out = join(work.dir, 'rows-set.jsonl');
  const run = await rote([
    'transcribe',
    '--model',
    OPTIMUM,
    '--provider',
    'cpu',
    '--quiet',
    '--canaries',
    sets.de,
    '--out',
    out,
  ]);
  assert.is(run.code, 0, run.stderr);
  assert.equal(rowsOf(out), await apiTranscripts(OPTIMUM, 'de', items));
  const mismatch = await rote([
    'transcribe',
    '--model',
    OPTIMUM,
    '--canaries',
    sets.de,
    '--language',
    'en',
    '--out',
    out,
  ]);
  assert.is.not(mismatch.code, 0);
  assert.match(mismatch.stderr, /--language en, but the canary set .*set-de is in "de"; drop --language/);
});

test('an English-only Whisper given another language is refused, saying why', async () => {
  const out = join(work.dir, 'rows-english-only.jsonl');
  const input = join(SPEECH, 'utt-00.wav');
  const run = await rote(['transcribe', '--model', englishOnly, '--language', 'de', '--out', out, '--input', input]);
  assert.is.not(run.code, 0);
  assert.match(run.stderr, /an English-only Whisper \(no lang_to_id\) cannot transcribe language "de"/);
  assert.not.match(run.stderr, /\n\s+at /, 'no stack trace');
  const english = await rote([
    'transcribe',
    '--model',
    englishOnly,
    '--provider',
    'cpu',
    '--quiet',
    '--out',
    out,
    '--input',
    input,
  ]);
  assert.is(english.code, 0, english.stderr);
});

test("check-canaries loads Whisper in the set's language: a German set passes, a French one is refused, as by an English-only model", async () => {
  const german = await checkCanaries({ canaries: sets.de, model: SHERPA, provider: 'cpu' });
  assert.is(german.canaries.length, 4);
  const french = await checkCanaries({ canaries: sets.fr, model: SHERPA, provider: 'cpu' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(french!.message, /metadata all_language_codes has no <\|fr\|> for language "fr"/);
  const englishModel = await checkCanaries({ canaries: sets.de, model: englishOnly, provider: 'cpu' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(englishModel!.message, /an English-only Whisper \(no lang_to_id\) cannot transcribe language "de"/);
});

test.run();
