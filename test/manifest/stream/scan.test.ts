import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanManifestFile } from '../../../src/manifest/stream/scan.ts';
import { adapterFor } from '../../../src/manifest/formats/index.ts';
import { FULL_CHECK_RECORDS } from '../../../src/manifest/types.ts';
import { SeededRandom } from '../../../src/util/random.ts';
import { temporaryDir } from '../helpers.ts';

test('pass 1 counts records and places checkpoints at record starts, through odd lines, chunk edges and an overlong line', async () => {
  const { dir, cleanup } = await temporaryDir('line-scan');
  try {
    const random = new SeededRandom('pass-1');
    const lines: string[] = [];
    const count = FULL_CHECK_RECORDS + 30_000;
    for (let i = 0; i < count; i++) {
      const record = JSON.stringify({
        audio_filepath: `/corpus/${i}.wav`,
        duration: 1 + (i % 7),
        text: `line ${i} ${'w'.repeat(random.nextInt(300))}`,
      });
      const odd = i > FULL_CHECK_RECORDS ? random.nextInt(500) : -1;
      // Past the fully checked records: blank lines, CRLF, spaces around the braces, one line longer than a read chunk.
      lines.push(
        odd === 0
          ? ''
          : odd === 1
            ? `${record}\r`
            : odd === 2
              ? `  ${record}\t`
              : i === FULL_CHECK_RECORDS + 20_000
                ? JSON.stringify({ audio_filepath: '/long.wav', duration: 1, text: 'v'.repeat(600_000) })
                : record,
      );
    }
    const path = join(dir, 'm.json');
    const text = lines.join('\n');
    // No newline after the last line.
    await writeFile(path, text);
    const scan = await scanManifestFile(path, adapterFor('nemo'), {
      ids: null,
      canaryIds: new Set(),
      depth: 'structure',
    });

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
