import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAudioSync } from '../../src/audio/index.ts';
import { decodeWav, encodeWav16, parseWavHeader, probeWav, wavSampleRate } from '../../src/audio/wav.ts';
import { probeSampleRate } from '../../src/audio/sample-rate.ts';
import { MODELS, speechFixtures } from '../asr/helpers.ts';
import { transcribeArgs } from '../manifest/helpers.ts';

const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rote-wav-'));

function tone(seconds: number, rate = 16000): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate);
  return x;
}

/** A 16-bit mono WAV whose last `cut` bytes are missing (its header still declares them). */
function truncated(seconds: number, cut: number): Uint8Array {
  const bytes = encodeWav16(tone(seconds), 16000);
  return bytes.subarray(0, bytes.length - cut);
}

/** The same WAV with its data size set to a streaming writer's "until the end" value. */
function streamed(size: number): Uint8Array {
  const bytes = Uint8Array.from(encodeWav16(tone(0.1), 16000));
  new DataView(bytes.buffer).setUint32(40, size, true);
  return bytes;
}

test('a WAV whose data chunk is cut short is refused by the decoder, the prober and the loader, naming the file', () => {
  const path = join(dir, 'cut.wav');
  writeFileSync(path, truncated(0.5, 1000));
  const declared = 0.5 * 16000 * 2;
  const message = new RegExp(
    `cut\\.wav: truncated WAV: its data chunk declares ${declared} bytes but the file holds ${declared - 1000}`,
  );
  assert.throws(() => decodeWav(readFileSync(path), path), message);
  assert.throws(() => probeWav(path), message);
  assert.throws(() => loadAudioSync(path, 16000), message);
});

test('a complete WAV and streamed data sizes (0xFFFFFFFF, sox/espeak-ng 0x7FFFF000) read to the end of the file', () => {
  const whole = encodeWav16(tone(0.1), 16000);
  assert.is(decodeWav(whole).samples.length, 1600);
  assert.is(parseWavHeader(whole, whole.length, 'whole').numSamples, 1600);
  for (const size of [0xffffffff, 0x7ffff000]) {
    const bytes = streamed(size);
    assert.is(parseWavHeader(bytes, bytes.length, 'streamed').numSamples, 1600);
  }
});

/** An 8-bit mono PCM WAV of `samples` (unsigned bytes), with the RIFF pad byte after an odd-sized data chunk. */
function wav8(samples: number[]): Uint8Array {
  const pad = samples.length % 2;
  const bytes = new Uint8Array(44 + samples.length + pad);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length + pad, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, 8000, true);
  view.setUint32(28, 8000, true); // bytes per second
  view.setUint16(32, 1, true); // block align
  view.setUint16(34, 8, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, samples.length, true);
  bytes.set(samples, 44);
  return bytes;
}

test('8-bit WAV with an odd data chunk: the RIFF pad byte is not a sample', () => {
  const odd = decodeWav(wav8([128, 255, 0]), 'odd.wav');
  assert.is(odd.samples.length, 3);
  assert.equal(Array.from(odd.samples), [0, 1, -1]); // wavefile scales 8-bit by 1/127 above and 1/128 below 128
  assert.is(decodeWav(wav8([128, 192]), 'even.wav').samples.length, 2);
});

test('the sample-rate probe reads WAV headers through the same chunk walk', async () => {
  const path = join(dir, 'rate.wav');
  writeFileSync(path, encodeWav16(tone(0.05, 22050), 22050));
  assert.is(wavSampleRate(readFileSync(path)), 22050);
  assert.is(await probeSampleRate(path), 22050);
  assert.is(wavSampleRate(new TextEncoder().encode('not a wav at all')), undefined);
});

test('rote transcribe on a truncated canary WAV exits with the file and what is wrong, not a shorter utterance', async () => {
  const set = join(dir, 'set');
  mkdirSync(join(set, 'audio'), { recursive: true });
  const speech = speechFixtures().slice(0, 2);
  copyFileSync(speech[0]!.path, join(set, 'audio', 'c0.wav'));
  const bytes = readFileSync(speech[1]!.path);
  writeFileSync(join(set, 'audio', 'c1.wav'), bytes.subarray(0, bytes.length - 2000));
  const canaries = speech.map((s, i) => ({ id: `c${i}`, text: s.text, audio: `audio/c${i}.wav` }));
  writeFileSync(join(set, 'canary-set.json'), JSON.stringify({ format: 1, canaries }));
  let failure: { code: number; stderr: string } | null = null;
  try {
    await promisify(execFile)(process.execPath, [
      ROTE,
      ...transcribeArgs(
        set,
        join(MODELS, 'nemo-ctc'),
        join(dir, 'rows.jsonl'),
        '--provider',
        'cpu',
        '--threads',
        '1',
        '--quiet',
      ),
    ]);
  } catch (error) {
    failure = error as { code: number; stderr: string };
  }
  assert.ok(failure, 'transcribe must fail');
  assert.match(failure!.stderr, /c1\.wav: truncated WAV: its data chunk declares \d+ bytes but the file holds \d+/);
  assert.not.match(failure!.stderr, /\n\s+at /, 'no stack trace');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
