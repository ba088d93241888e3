import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { injectCanaries, verifyInjection } from '../../src/manifest/index.ts';
import { OptionError } from '../../src/util/options.ts';
import { RoteError } from '../../src/util/errors.ts';
import { FULL_CHECK_RECORDS } from '../../src/manifest/types.ts';
import { copyFixture, expectRejection, temporaryDir, writeTestSet } from './helpers.ts';

async function setup(label: string) {
  const { dir, cleanup } = await temporaryDir(label);
  const set = await writeTestSet(join(dir, 'set'));
  const nemo = join(await copyFixture('nemo', dir), 'train_manifest.json');
  const lines = (await readFile(nemo, 'utf8')).split('\n').filter(Boolean);
  const inject = (manifests: string[], extra: Record<string, unknown> = {}) =>
    injectCanaries({
      manifests,
      canaries: set.dir,
      output: join(dir, 'out', 'm.json'),
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
      ...extra,
    });
  const nothingWritten = async () => {
    assert.not.ok(existsSync(join(dir, 'out', 'm.json')));
    assert.equal(
      existsSync(join(dir, 'out')) ? (await readdir(join(dir, 'out'))).filter((n) => n.startsWith('.')) : [],
      [],
    );
    assert.equal(existsSync(join(dir, 'wav')) ? await readdir(join(dir, 'wav')) : [], []);
  };
  return { dir, set, nemo, lines, inject, nothingWritten, cleanup };
}

test('malformed NeMo line: file:line and what was expected, nothing written', async () => {
  const { dir, lines, inject, nothingWritten, cleanup } = await setup('err-malformed');
  try {
    const bad = join(dir, 'bad.json');
    const edited = [...lines];
    edited[2] = edited[2]!.slice(0, -20);
    await writeFile(bad, `${edited.join('\n')}\n`);
    const error = await expectRejection(inject([bad]), /bad\.json:3: .*expected/);
    assert.instance(error, RoteError);
    await nothingWritten();
    const noText = join(dir, 'no-text.json');
    edited[2] = JSON.stringify({ audio_filepath: '/a.wav', duration: 1 });
    await writeFile(noText, `${edited.join('\n')}\n`);
    await expectRejection(inject([noText]), /no-text\.json:3: NeMo record needs a string "text" field \(missing\)/);
    await nothingWritten();
  } finally {
    await cleanup();
  }
});

test('large NeMo manifests: structure check past the first records by default, every line with check "full"', async () => {
  const { dir, lines, inject, nothingWritten, cleanup } = await setup('err-depth');
  try {
    const count = FULL_CHECK_RECORDS + 40;
    const many = Array.from({ length: count }, (_, i) => lines[i % lines.length]!);
    const badLine = FULL_CHECK_RECORDS + 21;
    // Past the fully checked records, a line that is not one JSON object is still refused, with its line.
    const truncated = [...many];
    truncated[badLine - 1] = truncated[badLine - 1]!.slice(0, -20);
    await writeFile(join(dir, 'truncated.json'), `${truncated.join('\n')}\n`);
    await expectRejection(inject([join(dir, 'truncated.json')]), new RegExp(`truncated\\.json:${badLine}: .*expected`));
    await nothingWritten();
    // A well-formed object missing a field is only found by the full check there...
    const noText = [...many];
    noText[badLine - 1] = JSON.stringify({ audio_filepath: '/a.wav', duration: 1 });
    await writeFile(join(dir, 'no-text.json'), `${noText.join('\n')}\n`);
    await expectRejection(
      inject([join(dir, 'no-text.json')], { check: 'full' }),
      new RegExp(`no-text\\.json:${badLine}: NeMo record needs a string "text" field`),
    );
    await nothingWritten();
    const receipt = await inject([join(dir, 'no-text.json')]);
    assert.is(receipt.inputs[0]!.records, count);
    // ...and within the first FULL_CHECK_RECORDS records the default check is the full one.
    const early = [...many];
    early[99] = JSON.stringify({ audio_filepath: '/a.wav', duration: 1 });
    await writeFile(join(dir, 'early.json'), `${early.join('\n')}\n`);
    await expectRejection(
      inject([join(dir, 'early.json')], { output: join(dir, 'out2', 'm.json') }),
      /early\.json:100: NeMo record needs a string "text" field/,
    );
  } finally {
    await cleanup();
  }
});

test('unknown format lists the formats tried; mixed formats are refused', async () => {
  const { dir, nemo, inject, cleanup } = await setup('err-format');
  try {
    const unknown = join(dir, 'notes.txt');
    await writeFile(unknown, 'just some words\nand more\n');
    await expectRejection(
      inject([unknown]),
      /notes\.txt:1: unknown manifest format; formats tried: wenet .*nemo .*lhotse-cuts .*audiofolder .*kaldi/,
    );
    const wenet = join(await copyFixture('wenet', dir), 'data.list');
    await expectRejection(
      inject([nemo, wenet]),
      /mixed manifest formats: .*train_manifest\.json is nemo, .*data\.list is wenet/,
    );
  } finally {
    await cleanup();
  }
});

test('missing CSV columns and short rows name the file and line', async () => {
  const { dir, inject, cleanup } = await setup('err-columns');
  try {
    const csv = join(dir, 'metadata.csv');
    await writeFile(csv, 'path,transcription\na.wav,hello there\n');
    await expectRejection(
      inject([csv], { format: 'audiofolder' }),
      /metadata\.csv:1: audiofolder metadata\.csv header lacks column "file_name" \(found: path, transcription\)/,
    );
    const sb = join(await copyFixture('speechbrain', dir), 'train-clean-100.csv');
    const text = await readFile(sb, 'utf8');
    await writeFile(sb, text.replace(/\r\n1034-121119-0000,[^\r]*/, '\r\n1034-121119-0000,3.6,only-three'));
    await expectRejection(inject([sb]), /train-clean-100\.csv:5: 3 fields where the header has 5/);
  } finally {
    await cleanup();
  }
});

test('ids colliding with canary ids, output over input, non-UTF-8 text, unusable audio dir', async () => {
  const { dir, set, nemo, lines, inject, nothingWritten, cleanup } = await setup('err-misc');
  try {
    const wenet = join(dir, 'data.list');
    await writeFile(
      wenet,
      `${JSON.stringify({ key: 'a1', wav: '/x/a1.wav', txt: 'hi' })}\n${JSON.stringify({ key: set.inserted[0]!.id, wav: '/x/b.wav', txt: 'hi' })}\n`,
    );
    await expectRejection(inject([wenet]), /data\.list:2: id "[0-9a-f]{8}" is a canary id of this set/);
    await expectRejection(
      injectCanaries({
        manifests: [nemo],
        canaries: set.dir,
        output: nemo,
        audioDir: join(dir, 'wav'),
        sampleRate: 16000,
      }),
      /is the training manifest/,
    );
    const latin1 = join(dir, 'latin1.json');
    await writeFile(
      latin1,
      Buffer.concat([
        Buffer.from(`${lines[0]}\n`),
        Buffer.from('{"audio_filepath": "/a.wav", "duration": 1.0, "text": "caf'),
        Buffer.from([0xe9]),
        Buffer.from('"}\n'),
      ]),
    );
    await expectRejection(inject([latin1]), /latin1\.json:2: text is not valid UTF-8/);
    await nothingWritten();
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expectRejection(
      inject([nemo], { audioDir: join(file, 'wav') }),
      /audio dir is not a readable, writable directory/,
    );
    await expectRejection(
      injectCanaries({
        manifests: [nemo],
        canaries: join(dir, 'nowhere'),
        output: join(dir, 'o.json'),
        audioDir: join(dir, 'wav'),
      }),
      /no canary list found/,
    );
  } finally {
    await cleanup();
  }
});

test('option errors name the API keys (INJECT_/VERIFY_OPTION_SPECS), before anything is read or written', async () => {
  const { set, nemo, inject, nothingWritten, cleanup } = await setup('err-options');
  try {
    const rate = await expectRejection(
      inject([nemo], { sampleRate: 5 }),
      /^sampleRate must be an integer from 1000 to 384000, got 5$/,
    );
    assert.instance(rate, OptionError);
    assert.equal((rate as OptionError).keys, ['sampleRate']);
    await expectRejection(
      inject([nemo], { sampleRate: 16000.5 }),
      /^sampleRate must be an integer from 1000 to 384000, got 16000\.5$/,
    );
    await expectRejection(inject([nemo], { check: 'deep' }), /^check must be structure or full, got "deep"$/);
    await expectRejection(inject([nemo], { hash: 'md5' }), /^hash must be xxh3 or sha256, got "md5"$/);
    await expectRejection(
      inject([nemo], { format: 'csv' }),
      /^format must be nemo, kaldi, .* or commonvoice, got "csv"$/,
    );
    await expectRejection(inject([nemo], { output: undefined }), /^output is required$/);
    await expectRejection(inject([nemo], { link: 'yes' }), /^link must be true or false, got "yes"$/);
    await nothingWritten();
    await expectRejection(
      verifyInjection({ manifests: [nemo], canaries: set.dir, format: 'csv' as never }),
      /^format must be nemo, kaldi, .* or commonvoice, got "csv"$/,
    );
    await expectRejection(
      verifyInjection({ manifests: [nemo], canaries: set.dir, hashAll: 1 as never }),
      /^hashAll must be true or false, got 1$/,
    );
    await expectRejection(
      verifyInjection({ manifests: undefined as never, canaries: set.dir }),
      /^manifests is required$/,
    );
  } finally {
    await cleanup();
  }
});

test.run();
