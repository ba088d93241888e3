/**
 * verify under faults (issue 13): unreadable canary audio fails unless accepted, audio must match exactly unless it
 * was resampled, every failure ends in a one-line summary, progress is reported. Cases listed in docs/reliability.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  injectCanaries,
  verifyInjection,
  type InjectionReceipt,
  type VerifyProgress,
} from '../../src/manifest/index.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { copyFixture, temporaryDir, writeTestSet } from './helpers.ts';

const rote = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
const { dir, cleanup } = await temporaryDir('verify-faults');
const set = await writeTestSet(join(dir, 'set'));
const source = await copyFixture('nemo', dir);
const input = join(source, 'train_manifest.json');

async function inject(name: string, sampleRate: number): Promise<{ manifest: string; receipt: InjectionReceipt }> {
  const manifest = join(dir, name, 'with-canaries.json');
  const receipt = await injectCanaries({
    manifests: [input],
    canaries: join(set.dir, 'for-training'),
    output: manifest,
    audioDir: join(dir, name, 'wav'),
    sampleRate,
  });
  return { manifest, receipt };
}
const same = await inject('same-rate', 16000);
const resampled = await inject('resampled', 8000);

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [rote, 'verify', ...args], (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** A copy of `manifest` whose audio paths are relative to it, placed in `folder`. */
async function relativeCopy(manifest: string, folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const lines = (await readFile(manifest, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const record = JSON.parse(line);
      if (record.audio_filepath.startsWith(dir))
        record.audio_filepath = relative(dirname(manifest), record.audio_filepath);
      return JSON.stringify(record);
    });
  const path = join(folder, basename(manifest));
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

test('verify: canary audio that cannot be read (deleted WAV, broken relative paths) fails with exit 5 unless --allow-unverifiable', async () => {
  // Relative paths resolve next to the manifest; a moved manifest breaks every one of them.
  const inPlace = await relativeCopy(same.manifest, dirname(same.manifest));
  assert.ok((await verifyInjection({ manifests: [inPlace], canaries: set.dir })).ok);
  const moved = await relativeCopy(same.manifest, join(dir, 'moved', 'deeper'));
  const report = await verifyInjection({ manifests: [moved], canaries: set.dir });
  const copies = same.receipt.canaries.reduce((sum, c) => sum + c.positions.length, 0);
  assert.is(report.unverifiable.length, copies);
  assert.not.ok(report.ok);
  assert.match(report.unverifiable[0]!.reason, /ENOENT/);
  const refused = await cli(['--manifest', moved, '--canaries', set.dir]);
  assert.is(refused.code, 5);
  assert.is(
    refused.stdout.trim().split('\n').at(-1),
    `NOT OK: ${copies} records whose canary audio could not be checked (pass --allow-unverifiable to accept)`,
  );
  assert.equal(report.audioMatch, { rule: 'none', resampled: [], compared: 0 });
  const accepted = await cli(['--manifest', moved, '--canaries', set.dir, '--allow-unverifiable']);
  assert.is(accepted.code, 0);
  // Nothing was compared: no claim of an exact match, of the audio or of the manifest.
  assert.match(
    accepted.stdout,
    `\naudio compared: none (0 files); not compared: ${copies} records whose audio could not be read\n`,
  );
  assert.not.match(accepted.stdout, /exact/);
  assert.is(
    accepted.stdout.trim().split('\n').at(-1),
    `ok: the manifest holds the intended canaries by transcript; the audio of ${copies} records could not be compared (accepted with --allow-unverifiable)`,
  );

  // One canary WAV deleted after inject.
  const victim = dirname(same.manifest);
  const lines = (await readFile(same.manifest, 'utf8')).split('\n').filter(Boolean);
  const position = same.receipt.canaries.find((c) => c.repetitions === 1)!.positions[0]!;
  const gone = join(victim, 'gone.wav');
  lines[position.line - 1] = JSON.stringify({ ...JSON.parse(lines[position.line - 1]!), audio_filepath: gone });
  await writeFile(join(victim, 'deleted.json'), `${lines.join('\n')}\n`);
  const one = await verifyInjection({ manifests: [join(victim, 'deleted.json')], canaries: set.dir });
  assert.equal(
    one.unverifiable.map((u) => [u.line, u.audio]),
    [[position.line, gone]],
  );
  assert.not.ok(one.ok);
  assert.ok(
    (await verifyInjection({ manifests: [join(victim, 'deleted.json')], canaries: set.dir, allowUnverifiable: true }))
      .ok,
  );
});

test("verify: at the set's rate canary audio must match exactly (one flipped low bit is tampering); resampled audio within the stated tolerance", async () => {
  const clean = await verifyInjection({ manifests: [same.manifest], canaries: set.dir });
  assert.ok(clean.ok);
  const copies = same.receipt.canaries.reduce((sum, c) => sum + c.positions.length, 0);
  assert.equal(clean.audioMatch, { rule: 'exact', resampled: [], compared: copies });
  const position = same.receipt.canaries.find((c) => c.repetitions === 4)!.positions[2]!;
  const original = await readFile(position.audio);
  try {
    const wav = await readWav(position.audio);
    const flipped = new Int16Array(wav.samples.length);
    for (let i = 0; i < flipped.length; i++) flipped[i] = Math.round(wav.samples[i]! * 32768) ^ (i % 2);
    await writeFile(
      position.audio,
      encodeWav16(
        Float32Array.from(flipped, (v) => v / 32768),
        wav.sampleRate,
      ),
    );
    const report = await verifyInjection({ manifests: [same.manifest], canaries: set.dir });
    assert.not.ok(report.ok);
    assert.equal(
      report.tampered.map((t) => t.line),
      [position.line],
    );
    assert.match(
      report.tampered[0]!.reason,
      /max sample difference 1 of 32768; nothing was resampled, so an exact match is required/,
    );
    const shown = await cli(['--manifest', same.manifest, '--canaries', set.dir]);
    assert.is(shown.code, 4);
    assert.is(shown.stdout.trim().split('\n').at(-1), 'NOT OK: 1 record with tampered audio');
  } finally {
    await writeFile(position.audio, original);
  }

  const low = await verifyInjection({ manifests: [resampled.manifest], canaries: set.dir });
  assert.ok(low.ok, JSON.stringify(low.tampered));
  assert.equal(low.audioMatch.resampled, ['16000->8000']);
  assert.match(low.audioMatch.rule, /within ±3 of 32768 per sample after resampling/);
  const text = await cli(['--manifest', resampled.manifest, '--canaries', set.dir]);
  assert.is(text.code, 0);
  assert.match(
    text.stdout,
    `audio compared: ${copies} files, exact at the set's rate; within ±3 of 32768 per sample after resampling (resampled: 16000->8000 Hz)\n`,
  );
});

test('verify: count mismatches end in a one-line summary; progress reaches the manifest size', async () => {
  const lines = (await readFile(same.manifest, 'utf8')).split('\n').filter(Boolean);
  const four = set.inserted.find((c) => c.repetitions === 4)!;
  const index = lines.findIndex((l) => JSON.parse(l).text === four.text);
  lines.splice(index, 1);
  const edited = join(dirname(same.manifest), 'edited.json');
  await writeFile(edited, `${lines.join('\n')}\n`);
  const shown = await cli(['--manifest', edited, '--canaries', set.dir]);
  assert.is(shown.code, 4);
  assert.is(
    shown.stdout.trim().split('\n').at(-1),
    'NOT OK: 1 canary with a count mismatch (1 missing copies, 0 extra)',
  );

  const events: VerifyProgress[] = [];
  const report = await verifyInjection({
    manifests: [same.manifest],
    canaries: set.dir,
    onProgress: (event) => events.push({ ...event }),
  });
  const size = (await readFile(same.manifest)).length;
  const read = events.filter((e) => e.stage === 'read');
  assert.ok(read.length >= 1);
  assert.equal(read.at(-1), { stage: 'read', done: size, total: size, records: report.records });
  const audio = events.filter((e) => e.stage === 'audio');
  assert.is(audio.at(-1)!.done, audio.at(-1)!.total);
  assert.ok(audio.at(-1)!.total > 0);
});

test('verify on a terminal draws progress (reading, then checking audio); not when stderr is a pipe', async () => {
  const script = spawnSync('script', ['--version']);
  if (script.status !== 0) return console.log('  (skipped: no script(1) to give verify a terminal)');
  const command = [process.execPath, rote, 'verify', '--manifest', same.manifest, '--canaries', set.dir]
    .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const terminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
  assert.is(terminal.status, 0, terminal.stdout);
  assert.match(terminal.stdout, /verify reading manifests \[.*\] 100% \| \d+ records/);
  assert.match(terminal.stdout, /verify checking canary audio \[.*\] 100%/);
  const piped = await cli(['--manifest', same.manifest, '--canaries', set.dir]);
  assert.is(piped.stderr, '');
});

test.after(cleanup);

test.run();
