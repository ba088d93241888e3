import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectCanaries, verifyInjection, type InjectionReceipt } from '../../src/manifest/index.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { copyFixture, temporaryDir, writeTestSet, type TestSet } from './helpers.ts';

async function injected(label: string): Promise<{
  dir: string;
  set: TestSet;
  manifest: string;
  lines: string[];
  receipt: InjectionReceipt;
  cleanup: () => Promise<void>;
}> {
  const { dir, cleanup } = await temporaryDir(label);
  const set = await writeTestSet(join(dir, 'set'));
  const source = await copyFixture('nemo', dir);
  const manifest = join(dir, 'with-canaries.json');
  const receipt = await injectCanaries({
    manifests: [join(source, 'train_manifest.json')],
    canaries: set.dir,
    output: manifest,
    audioDir: join(dir, 'wav'),
    sampleRate: 16000,
  });
  return {
    dir,
    set,
    manifest,
    lines: (await readFile(manifest, 'utf8')).split('\n').filter(Boolean),
    receipt,
    cleanup,
  };
}

const lineOf = (lines: string[], text: string): number => lines.findIndex((l) => JSON.parse(l).text === text);

test('verify: a removed copy and an extra copy are count mismatches', async () => {
  const { dir, set, manifest, lines, cleanup } = await injected('verify-count');
  try {
    assert.ok((await verifyInjection({ manifests: [manifest], canaries: set.dir })).ok);
    const four = set.inserted.find((c) => c.repetitions === 4)!;
    const one = set.inserted.find((c) => c.repetitions === 1)!;
    const edited = [...lines];
    edited.splice(lineOf(edited, four.text), 1);
    edited.splice(5, 0, edited[lineOf(edited, one.text)]!);
    const path = join(dir, 'edited.json');
    await writeFile(path, `${edited.join('\n')}\n`);
    const report = await verifyInjection({ manifests: [path], canaries: set.dir });
    assert.not.ok(report.ok);
    assert.equal(
      report.countMismatches.sort((a, b) => a.expected - b.expected),
      [
        { id: one.id, expected: 1, found: 2 },
        { id: four.id, expected: 4, found: 3 },
      ],
    );
    assert.is(report.leaks.length, 0);
  } finally {
    await cleanup();
  }
});

test('verify: a held-out canary is a leak, found by text, or by audio alone with hashAll; the CLI exits 3', async () => {
  const { dir, set, lines, cleanup } = await injected('verify-leak');
  try {
    const heldOut = set.heldOut[0]!;
    const byText = [...lines];
    byText.splice(
      7,
      0,
      JSON.stringify({
        audio_filepath: join(set.dir, heldOut.audio),
        duration: 0.4,
        text: heldOut.text,
        lang: 'en',
        speaker: 4242,
      }),
    );
    const leaked = join(dir, 'leaked.json');
    await writeFile(leaked, `${byText.join('\n')}\n`);
    const report = await verifyInjection({ manifests: [leaked], canaries: set.dir });
    assert.is(report.leaks.length, 1);
    assert.is(report.leaks[0]!.id, heldOut.id);
    assert.is(report.leaks[0]!.positions[0]!.line, 8);
    assert.equal(report.leaks[0]!.positions[0]!.matchedBy, ['text', 'audio']);
    assert.is(report.countMismatches.length, 0);

    const byAudio = [...lines];
    byAudio.splice(
      2,
      0,
      JSON.stringify({
        audio_filepath: join(set.dir, heldOut.audio),
        duration: 0.4,
        text: 'an ordinary sentence',
        lang: 'en',
      }),
    );
    const hidden = join(dir, 'hidden.json');
    await writeFile(hidden, `${byAudio.join('\n')}\n`);
    assert.is((await verifyInjection({ manifests: [hidden], canaries: set.dir })).leaks.length, 0);
    const thorough = await verifyInjection({ manifests: [hidden], canaries: set.dir, hashAll: true });
    assert.is(thorough.leaks.length, 1);
    assert.equal(thorough.leaks[0]!.positions[0]!.matchedBy, ['audio']);

    const root = fileURLToPath(new URL('../../', import.meta.url));
    const cli = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/cli/main.ts'),
        'verify',
        '--manifest',
        leaked,
        '--canaries',
        set.dir,
        '--json',
      ],
      { cwd: root },
    ).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    assert.is(cli.code, 3);
    assert.is(JSON.parse(cli.stdout).leaks[0].id, heldOut.id);
  } finally {
    await cleanup();
  }
});

test('verify: a tampered canary WAV is reported', async () => {
  const { set, manifest, receipt, cleanup } = await injected('verify-tamper');
  try {
    const position = receipt.canaries.find((c) => c.repetitions === 2)!.positions[1]!;
    const wav = await readWav(position.audio);
    const altered = wav.samples.slice();
    for (let i = 1000; i < 1400; i++) altered[i] = altered[i]! * 0.5;
    await writeFile(position.audio, encodeWav16(altered, wav.sampleRate));
    const report = await verifyInjection({ manifests: [manifest], canaries: set.dir });
    assert.not.ok(report.ok);
    assert.is(report.tampered.length, 1);
    assert.is(report.tampered[0]!.audio, position.audio);
    assert.is(report.tampered[0]!.line, position.line);
    assert.match(report.tampered[0]!.reason, /differs/);
  } finally {
    await cleanup();
  }
});

test.run();
