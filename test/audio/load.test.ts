import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAudio, loadAudioSync } from '../../src/audio/index.ts';
import { decodeWav, encodeWav16 } from '../../src/audio/wav.ts';
import { RoteError } from '../../src/util/errors.ts';
import { PARITY_DIR } from './fixtures.ts';

const { WaveFile } = createRequire(import.meta.url)('wavefile') as {
  WaveFile: new () => {
    fromScratch(channels: number, rate: number, depth: string, samples: unknown): void;
    toBuffer(): Uint8Array;
  };
};

const dir = mkdtempSync(join(tmpdir(), 'rote-audio-'));

function tone(frequency: number, rate: number, seconds: number): Int16Array {
  const x = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = Math.round(10000 * Math.sin((2 * Math.PI * frequency * i) / rate));
  return x;
}

test('a 16 kHz mono file is used as is, without notes', async () => {
  const audio = await loadAudio(join(PARITY_DIR, 'espeak-1.wav'), 16000);
  assert.is(audio.sampleRate, 16000);
  assert.equal(audio.notes, []);
  assert.is(audio.samples.length, 46536);
});

test('stereo 22050 Hz is downmixed and resampled to 16 kHz, with a note for each', async () => {
  const left = tone(440, 22050, 1);
  const right = tone(440, 22050, 1);
  const wave = new WaveFile();
  wave.fromScratch(2, 22050, '16', [left, right]);
  const path = join(dir, 'stereo-22050.wav');
  writeFileSync(path, wave.toBuffer());
  const audio = await loadAudio(path, 16000);
  assert.is(audio.sampleRate, 16000);
  assert.equal(audio.notes, ['downmixed 2 channels', 'resampled 22050 -> 16000 Hz']);
  assert.is(audio.samples.length, 16000);
  let peak = 0;
  for (let i = 1000; i < 15000; i++) peak = Math.max(peak, Math.abs(audio.samples[i]!));
  assert.ok(Math.abs(peak - 10000 / 32768) < 0.01, `peak ${peak}`);
});

test('opposite channels cancel in the downmix (it averages)', async () => {
  const left = tone(300, 16000, 0.25);
  const right = left.map((v) => -v);
  const wave = new WaveFile();
  wave.fromScratch(2, 16000, '16', [left, right]);
  const path = join(dir, 'cancel.wav');
  writeFileSync(path, wave.toBuffer());
  const audio = await loadAudio(path, 16000);
  assert.equal(audio.notes, ['downmixed 2 channels']);
  assert.ok(audio.samples.every((v) => Math.abs(v) < 1e-3));
});

test('a mono 8 kHz file is upsampled with only a resampling note', async () => {
  const path = join(dir, 'mono-8000.wav');
  writeFileSync(
    path,
    encodeWav16(
      new Float32Array(8000).map((_, i) => 0.3 * Math.sin(i / 5)),
      8000,
    ),
  );
  const audio = await loadAudio(path, 16000);
  assert.equal(audio.notes, ['resampled 8000 -> 16000 Hz']);
  assert.is(audio.samples.length, 16000);
});

test('empty and missing files are RoteErrors naming the file', async () => {
  const empty = join(dir, 'empty.wav');
  writeFileSync(empty, new Uint8Array(0));
  for (const path of [empty, join(dir, 'missing.wav')]) {
    try {
      await loadAudio(path, 16000);
      assert.unreachable('no error');
    } catch (error) {
      assert.instance(error, RoteError);
      assert.ok((error as Error).message.includes(path));
    }
  }
});

test('loadAudioSync gives what loadAudio gives (stereo, resampled, and the parity file)', async () => {
  const wave = new WaveFile();
  wave.fromScratch(2, 22050, '16', [tone(440, 22050, 0.5), tone(330, 22050, 0.5)]);
  const path = join(dir, 'stereo-sync.wav');
  writeFileSync(path, wave.toBuffer());
  for (const file of [path, join(PARITY_DIR, 'espeak-1.wav')]) {
    const viaPromise = await loadAudio(file, 16000);
    const viaSync = loadAudioSync(file, 16000);
    assert.equal(viaSync.notes, viaPromise.notes);
    assert.equal(Array.from(viaSync.samples), Array.from(viaPromise.samples));
  }
  assert.throws(
    () => loadAudioSync(join(dir, 'missing.wav'), 16000),
    (error: Error) => error instanceof RoteError && error.message.includes('missing.wav'),
  );
});

test('16-bit PCM decodes exactly (x / 32768), also from bytes at an odd offset', () => {
  const wave = new WaveFile();
  const pcm = tone(500, 16000, 0.1);
  pcm[0] = -32768;
  pcm[1] = 32767;
  wave.fromScratch(1, 16000, '16', pcm);
  const bytes = wave.toBuffer();
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const aligned = decodeWav(bytes);
  const unaligned = decodeWav(shifted.subarray(1));
  assert.equal(Array.from(unaligned.samples), Array.from(aligned.samples));
  assert.is(aligned.samples[0], -1);
  assert.is(aligned.samples[1], 32767 / 32768);
  for (let i = 0; i < pcm.length; i++) assert.is(aligned.samples[i], Math.fround(pcm[i]! / 32768));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
