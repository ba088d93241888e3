import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';
import { transcribeArgs } from '../manifest/helpers.ts';

const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

async function rote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [ROTE, ...args], { maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const speech = speechFixtures().slice(0, 4);

test('transcribe --canaries --json: rows for every canary with scores, and the GPU-check numbers', async () => {
  const { dir, remove } = temporaryDirectory('cli');
  try {
    const set = join(dir, 'set');
    mkdirSync(join(set, 'audio'), { recursive: true });
    const canaries = speech.map((s, i) => {
      copyFileSync(s.path, join(set, 'audio', `c${i}.wav`));
      return { id: `c${i}`, text: s.text, audio: `audio/c${i}.wav` };
    });
    writeFileSync(join(set, 'canary-set.json'), JSON.stringify({ format: 1, canaries }));
    const out = join(dir, 'out', 'rows.jsonl');
    const result = await rote(
      transcribeArgs(set, join(MODELS, 'nemo-ctc'), out, '--provider', 'cpu', '--threads', '1', '--json'),
    );
    assert.is(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.is(summary.utterances, 4);
    assert.is(summary.provider.used, 'cpu');
    for (const key of ['utterancesPerSec', 'rtfx', 'sessionRunShare']) assert.ok(summary[key] > 0, key);
    assert.ok(summary.sessionRunShare <= 1);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(rows.map((r) => r.id).sort(), ['c0', 'c1', 'c2', 'c3']);
    assert.ok(
      rows.every((r) => typeof r.hypothesis === 'string' && r.referenceScore && r.referenceScore.logLikelihood < 0),
    );
    assert.equal(readdirSync(join(dir, 'out')), ['rows.jsonl'], 'no temporary file left behind');
  } finally {
    remove();
  }
});

test('transcribe --list --skip-bad: the skipped file is listed, the good one transcribed', async () => {
  const { dir, remove } = temporaryDirectory('cli-list');
  try {
    writeFileSync(join(dir, 'broken.wav'), 'not audio');
    copyFileSync(speech[0]!.path, join(dir, 'good.wav'));
    writeFileSync(join(dir, 'list.txt'), 'a\tgood.wav\tthe reference\nbroken.wav\n');
    const out = join(dir, 'rows.jsonl');
    const skipped = await rote([
      'transcribe',
      '--model',
      join(MODELS, 'sidecar-ctc'),
      '--list',
      join(dir, 'list.txt'),
      '--out',
      out,
      '--provider',
      'cpu',
      '--skip-bad',
      '--json',
    ]);
    assert.is(skipped.code, 0, skipped.stderr);
    const summary = JSON.parse(skipped.stdout);
    assert.is(summary.utterances, 1);
    assert.equal(
      summary.skipped.map((s: { id: string }) => s.id),
      ['broken'],
    );
    assert.match(summary.skipped[0].reason, 'broken.wav');
  } finally {
    remove();
  }
});

test('transcribe --provider cuda without CUDA: exit 2, the fix named, no output written', async () => {
  const { dir, remove } = temporaryDirectory('cli-cuda');
  try {
    const out = join(dir, 'rows.jsonl');
    const cuda = await rote([
      'transcribe',
      '--model',
      join(MODELS, 'sidecar-ctc'),
      '--input',
      speech[0]!.path,
      '--out',
      out,
      '--provider',
      'cuda',
    ]);
    if (cuda.code === 0) return; // a machine with working CUDA: nothing to check here
    assert.is(cuda.code, 2);
    assert.match(cuda.stderr, 'npm run setup:cuda');
    assert.not.ok(existsSync(out));
  } finally {
    remove();
  }
});

test('inspect-model --json reports the detected family, vocabulary and resolved frontend', async () => {
  const inspect = await rote(['inspect-model', join(MODELS, 'transducer'), '--json']);
  assert.is(inspect.code, 0, inspect.stderr);
  const report = JSON.parse(inspect.stdout);
  assert.is(report.family, 'sherpa-transducer');
  assert.is(report.info.vocabulary.size, 45);
  assert.is(report.frontendResolved.window, 'povey');
});

test.run();
