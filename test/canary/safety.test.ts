/**
 * Reliability of `generate` (issue 13): --force replaces only a canary set rote wrote, leftovers of dead
 * runs are cleaned, empty/silent/short TTS output is refused, and the default seed is secret.
 * A stand-in TTS command (a tone per canary) keeps these fast; docs/reliability.md lists the cases.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet, type GenerateOptions } from '../../src/canary/index.ts';
import { implausibleSpeech } from '../../src/canary/generate.ts';
import { rejectsWithRoteError } from './helpers.ts';

const root = await mkdtemp(join(tmpdir(), 'rote-test-safety-'));

/** A stand-in TTS engine: argv text, out, then the number of samples at 16 kHz and the amplitude. */
const engine = join(root, 'engine.mjs');
await writeFile(
  engine,
  `import { writeFileSync } from 'node:fs';
const [, out, samples, amplitude] = process.argv.slice(2);
const rate = 16000, n = Number(samples), data = Buffer.alloc(44 + 2 * n);
data.write('RIFF', 0); data.writeUInt32LE(36 + 2 * n, 4); data.write('WAVEfmt ', 8); data.writeUInt32LE(16, 16);
data.writeUInt16LE(1, 20); data.writeUInt16LE(1, 22); data.writeUInt32LE(rate, 24); data.writeUInt32LE(2 * rate, 28);
data.writeUInt16LE(2, 32); data.writeUInt16LE(16, 34); data.write('data', 36); data.writeUInt32LE(2 * n, 40);
for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(Number(amplitude) * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + 2 * i);
writeFileSync(out, data);
`,
);
const tone = (samples: number, amplitude = 8000) =>
  `${JSON.stringify(process.execPath)} ${JSON.stringify(engine)} {text} {out} ${samples} ${amplitude}`;
const tiny: Omit<GenerateOptions, 'out'> = {
  seed: 'safety',
  words: 2,
  perGroup: 1,
  repetitions: [1],
  holdout: 1,
  ttsCommand: tone(32000),
  concurrency: 2,
};

test('--force never replaces a file, a folder with foreign content, or the working directory and its ancestors', async () => {
  const file = join(root, 'train_manifest.json');
  await writeFile(file, '{"audio_filepath": "a.wav"}\n');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...tiny, out: file, force: true }),
    /train_manifest\.json exists and is a file.*never replaces a file/,
  );
  assert.is(await readFile(file, 'utf8'), '{"audio_filepath": "a.wav"}\n');

  const folder = join(root, 'd');
  await mkdir(join(folder, 'sub'), { recursive: true });
  await writeFile(join(folder, 'notes.txt'), 'keep');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...tiny, out: folder, force: true }),
    /holds files a canary set does not \(notes\.txt, sub\); force replaces only a canary set/,
  );
  const cwd = process.cwd();
  try {
    process.chdir(join(folder, 'sub'));
    await rejectsWithRoteError(
      () => generateCanarySet({ ...tiny, out: '..', force: true }),
      /working directory or one of its ancestors/,
    );
    await rejectsWithRoteError(
      () => generateCanarySet({ ...tiny, out: '.', force: true }),
      /working directory or one of its ancestors/,
    );
  } finally {
    process.chdir(cwd);
  }
  assert.is(await readFile(join(folder, 'notes.txt'), 'utf8'), 'keep');

  // A canary set rote wrote is replaced, but not from inside it, and not once it holds something else.
  const set = join(root, 'set');
  const first = await generateCanarySet({ ...tiny, out: set });
  try {
    process.chdir(join(set, 'audio'));
    await rejectsWithRoteError(
      () => generateCanarySet({ ...tiny, out: '..', force: true }),
      /working directory or one of its ancestors/,
    );
  } finally {
    process.chdir(cwd);
  }
  const second = await generateCanarySet({ ...tiny, seed: 'safety-2', out: set, force: true });
  assert.is.not(second.set.setId, first.set.setId);
  assert.equal((await readdir(set)).sort(), ['audio', 'canary-set.json', 'for-training']);
  await writeFile(join(set, 'mine.txt'), 'mine');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...tiny, out: set, force: true }),
    /holds files a canary set does not \(mine\.txt\)/,
  );
  const forged = join(root, 'forged');
  await mkdir(forged);
  await writeFile(join(forged, 'canary-set.json'), '{"note": "not from rote"}');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...tiny, out: forged, force: true }),
    /has no canary-set\.json written by rote/,
  );
});

test('temporary folders of dead runs are removed (and reported); those of live runs and foreign ones are kept', async () => {
  const out = join(root, 'debris');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = join(root, `.debris.tmp-${dead}-0123abcd`);
  await mkdir(join(stale, 'audio'), { recursive: true });
  await writeFile(join(stale, 'audio', 'x.wav'), 'partial');
  const live = join(root, `.debris.tmp-${process.ppid}-89abcdef`);
  await mkdir(join(live, 'audio'), { recursive: true });
  const foreign = join(root, `.debris.tmp-${dead}-fedcba98`);
  await mkdir(foreign);
  await writeFile(join(foreign, 'thesis.tex'), 'mine');
  const result = await generateCanarySet({ ...tiny, out });
  const names = await readdir(root);
  assert.not.ok(names.includes(`.debris.tmp-${dead}-0123abcd`), "the dead run's folder is still there");
  assert.ok(names.includes(`.debris.tmp-${process.ppid}-89abcdef`), "a live run's folder was removed");
  assert.ok(names.includes(`.debris.tmp-${dead}-fedcba98`), 'a folder with foreign content was removed');
  assert.ok(
    result.warnings.some(
      (w) => w.includes('removed 1 temporary folder(s) left by interrupted runs') && w.includes(stale),
    ),
    result.warnings.join('\n'),
  );
});

test('implausibleSpeech: empty, silent and too short for the text are refused; speech passes', () => {
  const text = 'velvet anchor orbit';
  assert.match(implausibleSpeech(text, new Float32Array(0), 16000)!, /empty \(0 samples\)/);
  assert.match(implausibleSpeech(text, new Float32Array(16000), 16000)!, /silent/);
  const burst = (seconds: number) =>
    Float32Array.from({ length: Math.round(16000 * seconds) }, (_, i) => 0.3 * Math.sin(i / 5));
  assert.match(implausibleSpeech(text, burst(0.1), 16000)!, /implausibly short: 0\.100 s for 17 letters/);
  // espeak-ng at its fastest rate (450 wpm) speaks 36 letters in about 1 s; a one-letter word in 0.07 s.
  assert.is(implausibleSpeech('velvet anchor orbit crimson lantern plume', burst(1.0), 16000), null);
  assert.is(implausibleSpeech('a', burst(0.07), 16000), null);
});

test('a TTS command writing an empty, silent or truncated WAV fails generate, naming the canary and the command', async () => {
  for (const [samples, amplitude, reason] of [
    [0, 8000, /empty \(0 samples\)/],
    [16000, 0, /silent/],
    [400, 8000, /implausibly short/],
  ] as const) {
    const out = join(root, `bad-tts-${samples}-${amplitude}`);
    const message = await rejectsWithRoteError(
      () => generateCanarySet({ ...tiny, out, ttsCommand: tone(samples, amplitude) }),
      reason,
    );
    assert.match(message, /^canary [0-9a-f]{12} \("[a-z]+ [a-z]+"\): /);
    assert.ok(message.includes(`--tts-command ${tone(samples, amplitude)}`), message);
    assert.not.ok(
      (await readdir(root)).some(
        (name) => name.startsWith(`bad-tts-${samples}-`) || name.startsWith(`.bad-tts-${samples}-`),
      ),
      'generate left a folder behind',
    );
  }
});

test('the default seed is secret: drawn at random, recorded in canary-set.json, never in for-training; --seed reproduces', async () => {
  const { seed: _seed, ...unseeded } = tiny;
  const a = await generateCanarySet({ ...unseeded, out: join(root, 'random-a') });
  const b = await generateCanarySet({ ...unseeded, out: join(root, 'random-b') });
  assert.ok(a.seedDrawn && b.seedDrawn);
  assert.match(a.set.parameters.seed, /^[0-9a-f]{32}$/);
  assert.is.not(a.set.parameters.seed, b.set.parameters.seed);
  assert.is.not(a.set.setId, b.set.setId);
  assert.not.equal(a.set.canaries.map((c) => c.text).sort(), b.set.canaries.map((c) => c.text).sort());
  const recorded = JSON.parse(await readFile(a.setPath, 'utf8'));
  assert.is(recorded.parameters.seed, a.set.parameters.seed);
  assert.not.ok(
    (await readFile(a.trainingListPath, 'utf8')).includes(a.set.parameters.seed),
    'for-training reveals the seed',
  );
  const again = await generateCanarySet({ ...tiny, seed: a.set.parameters.seed, out: join(root, 'random-again') });
  assert.not.ok(again.seedDrawn);
  assert.is(again.set.setId, a.set.setId);
  await rejectsWithRoteError(
    () => generateCanarySet({ ...tiny, seed: ' ', out: join(root, 'empty-seed') }),
    /^seed must not be empty/,
  );
});

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

test.run();
