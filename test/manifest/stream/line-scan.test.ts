import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLineScanner } from '../../../src/manifest/stream/line-scan.ts';
import { scanManifestFile } from '../../../src/manifest/stream/scan.ts';
import { adapterFor } from '../../../src/manifest/formats/index.ts';
import { FULL_CHECK_RECORDS } from '../../../src/manifest/types.ts';
import { SeededRandom } from '../../../src/util/random.ts';
import { temporaryDir } from '../helpers.ts';

const OPEN = 0x7b;
const CLOSE = 0x7d;

/** What line-scan.wat computes, one line at a time. */
function referenceScan(buf: Uint8Array, start: number, end: number, limit: number): { stop: number; settled: number; lastStart: number } {
  let position = start;
  let settled = 0;
  let lastStart = -1;
  while (settled < limit && position < end && buf[position] === OPEN) {
    const newline = buf.indexOf(10, position);
    if (newline === -1 || newline >= end) break;
    if (!(buf[newline - 1] === CLOSE || (buf[newline - 1] === 13 && buf[newline - 2] === CLOSE))) break;
    settled++;
    lastStart = position;
    position = newline + 1;
  }
  return { stop: position, settled, lastStart };
}

/** Mostly "{...}" lines, short and long (several newlines in one 16-byte block, or none), with the odd line the scanner must stop at. */
function randomLines(random: SeededRandom, bytes: number, oddOneIn: number): { bytes: Uint8Array; starts: number[] } {
  const parts: string[] = [];
  const starts: number[] = [];
  let length = 0;
  while (length < bytes) {
    const body = 'x'.repeat(random.nextInt(random.nextInt(4) === 0 ? 60 : 8)).replace(/x/g, () => 'ab "{}:,'[random.nextInt(8)]!);
    const odd = random.nextInt(oddOneIn) === 0 ? random.nextInt(6) : 6;
    const line = odd === 0 ? '\n' : odd === 1 ? ` {${body}}\n` : odd === 2 ? `{${body}}\r\n` : odd === 3 ? `{${body}} \n` : odd === 4 ? `{${body}\n` : odd === 5 ? `{${body}}\r\r\n` : `{${body}}\n`;
    starts.push(length);
    parts.push(line);
    length += line.length;
  }
  return { bytes: Buffer.from(parts.join('').slice(0, bytes), 'latin1'), starts: starts.filter((s) => s < bytes) };
}

test('the WebAssembly line scanner settles exactly the lines the reference settles', () => {
  const scanner = createLineScanner(1 << 16);
  assert.ok(scanner, 'WebAssembly SIMD is available on Node >= 20');
  const random = new SeededRandom('line-scan');
  let stoppedEarly = 0;
  let settledAll = 0;
  for (let round = 0; round < 400; round++) {
    const { bytes, starts } = randomLines(random, 16 + random.nextInt(4000), round % 2 === 0 ? 8 : 400);
    scanner.buffer.set(bytes);
    for (let call = 0; call < 20; call++) {
      // Mostly from a line start, as scan.ts calls it.
      const start = random.nextInt(4) === 0 ? random.nextInt(bytes.length) : starts[random.nextInt(starts.length)]!;
      const end = start + random.nextInt(bytes.length - start + 1);
      const limit = 1 + random.nextInt(call % 2 === 0 ? 4 : 2000);
      const expected = referenceScan(scanner.buffer, start, end, limit);
      const got = { ...scanner.scan(start, end, limit) };
      // Where the last settled line began is reported only when the limit stopped the scan.
      if (expected.settled < limit) got.lastStart = expected.lastStart;
      assert.equal(got, expected, `round ${round}, scan(${start}, ${end}, ${limit})`);
      if (expected.stop < end && expected.settled < limit) stoppedEarly++;
      settledAll += expected.settled;
    }
  }
  // The cases covered both outcomes, many times.
  assert.ok(stoppedEarly > 1000 && settledAll > 50_000, `${stoppedEarly} early stops, ${settledAll} lines settled`);
});

test('pass 1 counts records and places checkpoints at record starts, through odd lines, chunk edges and an overlong line', async () => {
  const { dir, cleanup } = await temporaryDir('line-scan');
  try {
    const random = new SeededRandom('pass-1');
    const lines: string[] = [];
    const count = FULL_CHECK_RECORDS + 30_000;
    for (let i = 0; i < count; i++) {
      const record = JSON.stringify({ audio_filepath: `/corpus/${i}.wav`, duration: 1 + (i % 7), text: `line ${i} ${'w'.repeat(random.nextInt(300))}` });
      const odd = i > FULL_CHECK_RECORDS ? random.nextInt(500) : -1;
      // Past the fully checked records: blank lines, CRLF, spaces around the braces, one line longer than a read chunk.
      lines.push(odd === 0 ? '' : odd === 1 ? `${record}\r` : odd === 2 ? `  ${record}\t` : i === FULL_CHECK_RECORDS + 20_000 ? JSON.stringify({ audio_filepath: '/long.wav', duration: 1, text: 'v'.repeat(600_000) }) : record);
    }
    const path = join(dir, 'm.json');
    const text = lines.join('\n');
    // No newline after the last line.
    await writeFile(path, text);
    const scan = await scanManifestFile(path, adapterFor('nemo'), { ids: null, canaryIds: new Set(), depth: 'structure' });

    // The same counts and record starts, the slow way.
    const bytes = Buffer.from(text);
    const starts: number[] = [];
    const recordLines: number[] = [];
    for (let offset = 0, line = 1; offset < bytes.length; line++) {
      const newline = bytes.indexOf(10, offset);
      const lineEnd = newline === -1 ? bytes.length : newline + 1;
      if (bytes.subarray(offset, lineEnd).toString().trim() !== '') {
        starts.push(offset);
        recordLines.push(line);
      }
      offset = lineEnd;
    }
    assert.is(scan.dataRecords, starts.length);
    assert.is(scan.summary.lines, lines.length);
    assert.is(scan.summary.bytes, bytes.length);
    assert.not.ok(scan.summary.endsWithNewline);
    for (let index = 0; index < starts.length; index += 997) {
      const checkpoint = scan.checkpoints.before(index)!;
      assert.ok(checkpoint.index <= index && index - checkpoint.index < scan.checkpoints.stride);
      assert.is(checkpoint.offset, starts[checkpoint.index], `checkpoint before record ${index}`);
      assert.is(checkpoint.line, recordLines[checkpoint.index]);
    }
  } finally {
    await cleanup();
  }
});

test.run();
