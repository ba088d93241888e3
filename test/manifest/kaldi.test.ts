import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { injectCanaries, verifyInjection, detectManifestFormat } from '../../src/manifest/index.ts';
import { readWav } from '../../src/audio/wav.ts';
import { copyFixture, expectRejection, temporaryDir, writeTestSet } from './helpers.ts';

function table(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)];
    });
}

function assertCSorted(rows: Array<[string, string]>, name: string): void {
  for (let i = 1; i < rows.length; i++) {
    assert.ok(
      Buffer.compare(Buffer.from(rows[i - 1]![0]), Buffer.from(rows[i]![0])) < 0,
      `${name}: ${rows[i - 1]![0]} !< ${rows[i]![0]}`,
    );
  }
}

test('kaldi: canaries merged into every table, C-sorted and consistent; verify finds them', async () => {
  const { dir, cleanup } = await temporaryDir('kaldi');
  try {
    const set = await writeTestSet(join(dir, 'set'), 22050);
    const source = await copyFixture('kaldi', dir);
    const input = join(source, 'train');
    assert.is((await detectManifestFormat([input])).format, 'kaldi');
    const before: Record<string, string> = Object.fromEntries(
      await Promise.all((await readdir(input)).map(async (n) => [n, await readFile(join(input, n), 'utf8')])),
    );
    const output = join(dir, 'train_canaries');
    const receipt = await injectCanaries({
      manifests: [input],
      canaries: set.dir,
      output,
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
      seed: 'kaldi-test',
    });
    const copies = 7;
    for (const [name, text] of Object.entries(before))
      assert.is(await readFile(join(input, name), 'utf8'), text, `${name} modified`);
    const after: Record<string, string> = Object.fromEntries(
      await Promise.all(
        (await readdir(output))
          .filter((n) => n !== 'injection-receipt.json')
          .map(async (n) => [n, await readFile(join(output, n), 'utf8')]),
      ),
    );
    assert.equal(Object.keys(after).sort(), Object.keys(before).sort());
    assert.is(after.frame_shift, before.frame_shift);
    for (const name of ['text', 'wav.scp', 'utt2spk', 'utt2dur']) {
      const rows = table(after[name]!);
      assertCSorted(rows, name);
      assert.is(rows.length, table(before[name]!).length + copies, name);
      // The original lines, in order, untouched.
      const original = before[name]!.split('\n').filter(Boolean);
      assert.equal(
        after[name]!.split('\n').filter((line) => original.includes(line)),
        original,
      );
    }
    const utts = table(after.text!).map(([u]) => u);
    assert.equal(
      table(after['wav.scp']!).map(([u]) => u),
      utts,
    );
    assert.equal(
      table(after.utt2spk!).map(([u]) => u),
      utts,
    );
    // utt2spk is also sorted by speaker (validate_data_dir.sh's spk-sort check) and spk2utt is its inverse.
    const utt2spk = table(after.utt2spk!);
    const bySpeaker = [...utt2spk].sort((a, b) =>
      Buffer.compare(Buffer.from(`${a[1]} ${a[0]}`), Buffer.from(`${b[1]} ${b[0]}`)),
    );
    assert.equal(bySpeaker, utt2spk);
    const spk2utt = table(after.spk2utt!);
    assertCSorted(spk2utt, 'spk2utt');
    assert.equal(spk2utt.flatMap(([spk, list]) => list.split(' ').map((u) => [u, spk])).sort(), [...utt2spk].sort());
    assertCSorted(table(after.spk2gender!), 'spk2gender');
    assert.is(table(after.spk2gender!).length, spk2utt.length);
    // Canary lines: transcripts upper-cased like the corpus, audio at 16 kHz, ids spread through the sorted order.
    const positions = receipt.canaries.flatMap((c) => c.positions);
    assert.is(positions.length, copies);
    const lines = after.text!.split('\n');
    for (const canary of set.inserted) {
      const found = lines.filter((line) => line.endsWith(` ${canary.text.toUpperCase()}`));
      assert.is(found.length, canary.repetitions);
    }
    const indices = positions.map((p) => p.line).sort((a, b) => a - b);
    assert.ok(indices[0]! < utts.length - copies, `canaries sort as a block at the end: ${indices}`);
    for (const position of positions) {
      const wav = await readWav(position.audio);
      assert.is(wav.sampleRate, 16000);
      assert.ok(Math.abs(wav.samples.length - 0.4 * 16000) <= 1);
      assert.ok(!set.set.canaries.some((c) => position.recordId!.includes(c.id)));
    }
    const report = await verifyInjection({ manifests: [output], canaries: set.dir });
    assert.ok(report.ok, JSON.stringify(report, null, 1));
    assert.is(report.records, utts.length);
  } finally {
    await cleanup();
  }
});

test('kaldi: unsorted table, output over input, and an existing output dir are refused', async () => {
  const { dir, cleanup } = await temporaryDir('kaldi-bad');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const source = await copyFixture('kaldi', dir);
    const input = join(source, 'train');
    await expectRejection(
      injectCanaries({
        manifests: [input],
        canaries: set.dir,
        output: input,
        audioDir: join(dir, 'wav'),
        sampleRate: 16000,
      }),
      /is the training data dir/,
    );
    const { writeFile } = await import('node:fs/promises');
    const text = await readFile(join(input, 'text'), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    await writeFile(join(input, 'text'), `${lines.join('\n')}\n`);
    await expectRejection(
      injectCanaries({
        manifests: [input],
        canaries: set.dir,
        output: join(dir, 'o'),
        audioDir: join(dir, 'wav'),
        sampleRate: 16000,
      }),
      /text:5: .*out of order.*LC_ALL=C/,
    );
    assert.is((await readdir(dir)).includes('o'), false);
    // No audio dir is left behind by a run that failed its checks (issue 13, case 9).
    assert.is((await readdir(dir)).includes('wav'), false);
  } finally {
    await cleanup();
  }
});

test.run();
