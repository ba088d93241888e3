import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateCanarySet,
  readCanarySet,
  readTrainingCanaries,
  verifyCanaryAudio,
  ESPEAK_VARIANTS,
  type GenerateOptions,
} from '../../src/canary/index.ts';
import { readWav } from '../../src/audio/wav.ts';
import { rejectsWithRoteError } from './helpers.ts';

const root = await mkdtemp(join(tmpdir(), 'rote-test-generate-'));
const small: Omit<GenerateOptions, 'out'> = {
  seed: 'test',
  perGroup: 3,
  repetitions: [1, 4],
  holdout: 6,
  concurrency: 2,
};
const first = generateCanarySet({ ...small, out: join(root, 'a') });

test('writes the layout: every canary in audio/, only inserted ones in for-training/', async () => {
  const result = await first;
  const set = await readCanarySet(result.dir);
  assert.equal(set, result.set);
  assert.is(set.canaries.length, 12);
  assert.is(set.canaries.filter((c) => c.repetitions === null).length, 6);
  assert.is(set.canaries.filter((c) => c.repetitions === 4).length, 3);
  await verifyCanaryAudio(result.dir, set);
  const wav = await readWav(join(result.dir, set.canaries[0]!.audio));
  assert.is(wav.sampleRate, 16000);
  assert.is(wav.channels, 1);
  assert.ok(Math.abs(wav.samples.length / 16000 - set.canaries[0]!.durationSec) < 1e-4);
  assert.equal((await readdir(join(result.dir, 'audio'))).length, 12);
  for (const canary of set.canaries) {
    assert.is(canary.tts.engine, 'espeak-ng-wasm');
    assert.ok(set.parameters.voices.includes(canary.tts.voice));
  }
});

test('holdout separation: for-training reveals no held-out id or text', async () => {
  const result = await first;
  const heldOut = result.set.canaries.filter((c) => c.repetitions === null);
  const training = await readTrainingCanaries(result.dir);
  assert.equal(training, await readTrainingCanaries(result.trainingDir));
  assert.is(training.canaries.length, 6);
  const trainingFiles = await readdir(join(result.trainingDir, 'audio'));
  assert.equal(trainingFiles.sort(), training.canaries.map((c) => `${c.id}.wav`).sort());
  const listing = await readFile(result.trainingListPath, 'utf8');
  for (const canary of heldOut) {
    assert.not.ok(listing.includes(canary.id), `held-out id ${canary.id} in for-training`);
    assert.not.ok(listing.includes(canary.text), `held-out text in for-training`);
    assert.not.ok(trainingFiles.includes(`${canary.id}.wav`));
  }
  assert.not.ok(/holdout|held|seed/i.test(listing), 'for-training names the held-out group or the seed');
});

test('ids are opaque and unique; texts unique', async () => {
  const { set } = await first;
  assert.is(new Set(set.canaries.map((c) => c.id)).size, set.canaries.length);
  assert.is(new Set(set.canaries.map((c) => c.text)).size, set.canaries.length);
  for (const canary of set.canaries) assert.match(canary.id, /^[0-9a-f]{12}$/);
  // canaries are listed by id, so their order does not follow the groups either
  const ids = set.canaries.map((c) => c.id);
  assert.equal(ids, [...ids].sort());
});

test('determinism: the same options twice give byte-identical files', async () => {
  const a = await first;
  const b = await generateCanarySet({ ...small, out: join(root, 'b'), concurrency: 1 });
  assert.is(
    await readFile(join(b.dir, 'canary-set.json'), 'utf8'),
    await readFile(join(a.dir, 'canary-set.json'), 'utf8'),
  );
  assert.is(await readFile(b.trainingListPath, 'utf8'), await readFile(a.trainingListPath, 'utf8'));
  for (const canary of a.set.canaries) {
    const bytesA = await readFile(join(a.dir, canary.audio));
    const bytesB = await readFile(join(b.dir, canary.audio));
    assert.ok(bytesA.equals(bytesB), `${canary.audio} differs between runs`);
  }
  const other = await generateCanarySet({ ...small, seed: 'other', out: join(root, 'c'), holdout: 1, perGroup: 1 });
  assert.not.equal(
    other.set.canaries.map((c) => c.text),
    a.set.canaries.slice(0, 3).map((c) => c.text),
  );
});

test('bad options: unknown voice lists the voices; speed out of range; existing output', async () => {
  const message = await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: join(root, 'x'), voices: ['en-us', 'en-zz'] }),
    /"en-zz" is not a voice/,
  );
  assert.ok(message.includes('en-gb') && message.includes(ESPEAK_VARIANTS[0]!), 'voice error does not list the voices');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: join(root, 'x'), voices: ['en-us+nosuch'] }),
    /unknown variant "\+nosuch"/,
  );
  await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: join(root, 'x'), speed: 9 }),
    /^speed must be a number from 1 to 8, got 9/,
  );
  await rejectsWithRoteError(() => generateCanarySet({ ...small, out: join(root, 'x'), speed: 0.5 }), /^speed must be/);
  const existing = join(root, 'existing');
  await mkdir(existing);
  await writeFile(join(existing, 'keep.txt'), 'mine');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: existing }),
    /exists and is not empty.*\bforce\b/,
  );
  assert.is(await readFile(join(existing, 'keep.txt'), 'utf8'), 'mine');
  const tiny = join(root, 'tiny.txt');
  await writeFile(tiny, 'apple\nriver\nstone\n');
  await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: join(root, 'x'), wordlist: tiny, words: 2 }),
    /3 usable words, which give at most 6 distinct canaries of 2 different words; 12 were asked for/,
  );
  assert.equal(
    (await readdir(root)).filter((name) => name.startsWith('.')),
    [],
    'a temporary directory was left behind',
  );
});

test('--force replaces an existing set', async () => {
  const out = join(root, 'forced');
  await generateCanarySet({ ...small, seed: 'old', out, perGroup: 1, holdout: 1 });
  const result = await generateCanarySet({ ...small, out, perGroup: 1, holdout: 1, force: true });
  assert.equal((await readdir(out)).sort(), ['audio', 'canary-set.json', 'for-training']);
  assert.is(result.set.canaries.length, 3);
});

test('readCanarySet and verifyCanaryAudio name the file and field', async () => {
  const { dir } = await first;
  const copy = join(root, 'edited');
  await mkdir(join(copy, 'audio'), { recursive: true });
  const json = JSON.parse(await readFile(join(dir, 'canary-set.json'), 'utf8'));
  json.canaries[2].sha256 = 'not-a-hash';
  await writeFile(join(copy, 'canary-set.json'), JSON.stringify(json));
  await rejectsWithRoteError(
    () => readCanarySet(copy),
    /canary-set\.json: canaries\[2\]\.sha256: expected a string matching/,
  );
  json.canaries[2].sha256 = '0'.repeat(64);
  await writeFile(join(copy, 'canary-set.json'), JSON.stringify(json));
  await rejectsWithRoteError(() => readCanarySet(copy), /setId: does not match/);
  const set = await readCanarySet(dir);
  const tampered = join(root, 'tampered');
  await mkdir(join(tampered, 'audio'), { recursive: true });
  for (const canary of set.canaries)
    await writeFile(join(tampered, canary.audio), await readFile(join(dir, canary.audio)));
  const victim = set.canaries[5]!;
  const bytes = await readFile(join(dir, victim.audio));
  bytes[bytes.length - 1] ^= 1;
  await writeFile(join(tampered, victim.audio), bytes);
  await rejectsWithRoteError(
    () => verifyCanaryAudio(tampered, set),
    new RegExp(`${victim.id}\\.wav: sha256 .* does not match`),
  );
  await rm(join(tampered, victim.audio));
  await rejectsWithRoteError(
    () => verifyCanaryAudio(tampered, set),
    new RegExp(`${victim.id}\\.wav: canary ${victim.id}'s audio is missing`),
  );
});

test('--tts-command: an external engine gets the text shell-quoted and its WAV is used', async () => {
  // A stand-in engine: writes a 1 s tone WAV and logs the text it received.
  const engine = join(root, 'engine.mjs');
  const log = join(root, 'engine.log');
  await writeFile(
    engine,
    `import { appendFileSync, writeFileSync } from 'node:fs';
const [text, out, voice] = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify({ text, voice }) + '\\n');
const rate = 24000, n = rate, data = Buffer.alloc(44 + 2 * n);
data.write('RIFF', 0); data.writeUInt32LE(36 + 2 * n, 4); data.write('WAVEfmt ', 8); data.writeUInt32LE(16, 16);
data.writeUInt16LE(1, 20); data.writeUInt16LE(1, 22); data.writeUInt32LE(rate, 24); data.writeUInt32LE(2 * rate, 28);
data.writeUInt16LE(2, 32); data.writeUInt16LE(16, 34); data.write('data', 36); data.writeUInt32LE(2 * n, 40);
for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + 2 * i);
writeFileSync(out, data);
`,
  );
  const result = await generateCanarySet({
    ...small,
    out: join(root, 'command'),
    perGroup: 1,
    holdout: 2,
    ttsCommand: `${JSON.stringify(process.execPath)} ${JSON.stringify(engine)} {text} {out} {voice}`,
    voices: ["it's voice"],
    ttsVersion: 'stand-in 1.0',
  });
  const calls = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { text: string; voice: string });
  assert.equal(calls.map((c) => c.text).sort(), result.set.canaries.map((c) => c.text).sort());
  assert.ok(calls.every((c) => c.voice === "it's voice"));
  for (const canary of result.set.canaries) {
    assert.equal(canary.tts, { engine: 'command', version: 'stand-in 1.0', voice: "it's voice", rate: 100, pitch: 50 });
    assert.ok(Math.abs(canary.durationSec - 1 / 3) < 0.01, `duration ${canary.durationSec}`);
  }
  await rejectsWithRoteError(
    () => generateCanarySet({ ...small, out: join(root, 'y'), ttsCommand: 'say {text}' }),
    /must contain \{out\}/,
  );
});

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

test.run();
