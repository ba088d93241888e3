/**
 * inject under bad input and faults (issue 13, cases 6, 7, 9, 12 and 14):
 * each test failed on the code before this change and passes after.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { injectCanaries, receiptPathFor, verifyInjection } from '../../src/manifest/index.ts';
import { RoteError } from '../../src/util/errors.ts';
import { copyFixture, expectRejection, temporaryDir, writeTestSet } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROTE = join(ROOT, 'bin/rote.js');

async function setup(label: string) {
  const { dir, cleanup } = await temporaryDir(label);
  const set = await writeTestSet(join(dir, 'set'));
  const nemo = join(await copyFixture('nemo', dir), 'train_manifest.json');
  const inject = (extra: Record<string, unknown> = {}) =>
    injectCanaries({
      manifests: [nemo],
      canaries: set.dir,
      output: join(dir, 'out', 'm.json'),
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
      ...extra,
    });
  return { dir, set, nemo, inject, cleanup };
}

/** 1 + 2 + 4 copies of the test set's inserted canaries. */
const COPIES = 7;

async function visible(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).filter((n) => !n.startsWith('.')).sort() : [];
}

/** A small tmpfs at `dir` (we may be root); false where it cannot be mounted. */
function mountTmpfs(dir: string, options: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0;
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

test('case 6: an existing --out manifest is refused unless --force, and left as it was', async () => {
  const { dir, inject, cleanup } = await setup('rel-force');
  try {
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'm.json'), 'keep me\n');
    const error = await expectRejection(inject(), /m\.json: already exists; .*--force/);
    assert.instance(error, RoteError);
    assert.is(await readFile(join(dir, 'out', 'm.json'), 'utf8'), 'keep me\n');
    assert.not.ok(existsSync(join(dir, 'wav')), 'no audio placed for a refused run');
    const receipt = await inject({ force: true });
    assert.is(receipt.outputs[0]!.records, 12 + COPIES);
    assert.ok((await readFile(join(dir, 'out', 'm.json'), 'utf8')).split('\n').filter(Boolean).length === 12 + COPIES);
  } finally {
    await cleanup();
  }
});

test('case 6: receipts are named after their output, so two injections into one folder keep their own; an existing receipt is refused', async () => {
  const { dir, inject, cleanup } = await setup('rel-receipt');
  try {
    const a = join(dir, 'out', 'a.json');
    const b = join(dir, 'out', 'b.json');
    await inject({ output: a, audioDir: join(dir, 'wav-a') });
    await inject({ output: b, audioDir: join(dir, 'wav-b') });
    assert.is(receiptPathFor(a), `${a}.receipt.json`);
    const receiptA = JSON.parse(await readFile(`${a}.receipt.json`, 'utf8'));
    const receiptB = JSON.parse(await readFile(`${b}.receipt.json`, 'utf8'));
    assert.is(receiptA.outputs[0].path, a);
    assert.is(receiptB.outputs[0].path, b);
    assert.not.ok(existsSync(join(dir, 'out', 'injection-receipt.json')));
    const c = join(dir, 'out', 'c.json');
    await writeFile(`${c}.receipt.json`, await readFile(`${a}.receipt.json`));
    await expectRejection(
      inject({ output: c, audioDir: join(dir, 'wav-c') }),
      /c\.json\.receipt\.json: the receipt of an earlier injection is there; pass --force/,
    );
    assert.not.ok(existsSync(c));
  } finally {
    await cleanup();
  }
});

test('case 6: verify finds the receipt named after the manifest and says whether the manifest is still what inject wrote', async () => {
  const { dir, set, inject, cleanup } = await setup('rel-verify-receipt');
  try {
    const out = join(dir, 'out', 'm.json');
    await inject();
    const report = await verifyInjection({ manifests: [out], canaries: set.dir });
    assert.equal(report.receipt, { path: `${out}.receipt.json`, matches: true, differing: [] });
    await writeFile(out, `${await readFile(out, 'utf8')}\n`);
    const changed = await verifyInjection({ manifests: [out], canaries: set.dir });
    assert.equal(changed.receipt, { path: `${out}.receipt.json`, matches: false, differing: [out] });
    // A Kaldi data dir: the receipt sits next to the dir, not inside it.
    const kaldi = join(await copyFixture('kaldi', dir), 'train');
    await injectCanaries({
      manifests: [kaldi],
      canaries: set.dir,
      output: join(dir, 'kaldi-out'),
      audioDir: join(dir, 'kaldi-wav'),
      sampleRate: 16000,
    });
    assert.not.ok((await readdir(join(dir, 'kaldi-out'))).some((n) => n.includes('receipt')));
    const kaldiReport = await verifyInjection({ manifests: [join(dir, 'kaldi-out')], canaries: set.dir });
    assert.is(kaldiReport.receipt?.path, `${join(dir, 'kaldi-out')}.receipt.json`);
    assert.ok(kaldiReport.receipt?.matches);
  } finally {
    await cleanup();
  }
});

test('case 4: a WAV cut short is an error in inject and verify, naming the file and what is wrong', async () => {
  const { dir, set, inject, cleanup } = await setup('rel-truncated');
  try {
    const out = join(dir, 'out', 'm.json');
    const receipt = await inject();
    const copy = receipt.canaries[0]!.positions[0]!.audio;
    const bytes = await readFile(copy);
    await writeFile(copy, bytes.subarray(0, bytes.length - 100));
    const report = await verifyInjection({ manifests: [out], canaries: set.dir });
    assert.not.ok(report.ok);
    assert.ok(
      report.tampered.some(
        (t) =>
          t.audio.endsWith(basename(copy)) &&
          /truncated WAV: its data chunk declares \d+ bytes but the file holds \d+/.test(t.reason),
      ),
      JSON.stringify(report.tampered),
    );
    // The set's own WAV cut short (its listed sha256 updated, so only the length is wrong).
    const listPath = join(set.dir, 'for-training', 'canaries.json');
    const list = JSON.parse(await readFile(listPath, 'utf8'));
    const wavPath = join(set.dir, 'for-training', list.canaries[0].audio);
    const cut = (await readFile(wavPath)).subarray(0, 2000);
    await writeFile(wavPath, cut);
    list.canaries[0].sha256 = (await import('node:crypto')).createHash('sha256').update(cut).digest('hex');
    await writeFile(listPath, JSON.stringify(list));
    await expectRejection(
      inject({ output: join(dir, 'again.json'), audioDir: join(dir, 'wav-again') }),
      /\.wav: truncated WAV: its data chunk declares \d+ bytes but the file holds 1956/,
    );
    assert.not.ok(existsSync(join(dir, 'wav-again')));
  } finally {
    await cleanup();
  }
});

test('case 7: an inject killed mid-run leaves no canary audio and no output; the rerun removes its leftovers and says so', async () => {
  const { dir, set, nemo, cleanup } = await setup('rel-killed');
  try {
    const options = {
      manifests: [nemo],
      canaries: set.dir,
      output: join(dir, 'out', 'm.json'),
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
    };
    // The child kills itself (SIGKILL: no handler runs) at its first progress report of pass 2,
    // while the manifest is being copied and the canary audio placed.
    const code = `const { injectCanaries } = await import(${JSON.stringify(join(ROOT, 'src/manifest/index.ts'))});
      await injectCanaries({ ...${JSON.stringify(options)}, onProgress: () => process.kill(process.pid, 'SIGKILL') });`;
    const killed = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
    }).then(
      () => null,
      (error: { signal?: string }) => error,
    );
    assert.is(killed?.signal, 'SIGKILL');
    assert.equal(await visible(join(dir, 'wav')), [], 'no canary WAV under its name');
    assert.not.ok(existsSync(join(dir, 'out', 'm.json')));
    const leftovers = [...(await readdir(join(dir, 'wav'))), ...(await readdir(join(dir, 'out')))];
    assert.ok(leftovers.length > 0, 'the killed run left its temporary files (removed below)');
    const receipt = await injectCanaries(options);
    for (const name of leftovers) {
      assert.ok(
        receipt.warnings.some((w) => w.includes(name) && /interrupted rote run \(process \d+ is gone\)/.test(w)),
        `says it removed ${name}`,
      );
    }
    assert.is((await readdir(join(dir, 'wav'))).length, COPIES, 'only the copies, no hidden leftovers');
    assert.equal((await readdir(join(dir, 'out'))).sort(), ['m.json', 'm.json.receipt.json']);
  } finally {
    await cleanup();
  }
});

test('case 7: leftovers of a process that still runs are kept', async () => {
  const { dir, inject, cleanup } = await setup('rel-alive');
  try {
    await mkdir(join(dir, 'wav'), { recursive: true });
    const alive = join(dir, 'wav', `.rote-canary-audio.tmp-${process.pid}-0123abcd`);
    await mkdir(alive);
    const receipt = await inject();
    assert.ok(existsSync(alive));
    assert.not.ok(receipt.warnings.some((w) => w.includes('interrupted')));
  } finally {
    await cleanup();
  }
});

test('case 9: a run that fails its checks leaves no --audio-dir and no output folder', async () => {
  const { dir, nemo, inject, cleanup } = await setup('rel-empty');
  try {
    const lines = (await readFile(nemo, 'utf8')).split('\n');
    lines[4] = '{"audio_filepath": "/x.wav", "duration": 1';
    const bad = join(dir, 'bad.json');
    await writeFile(bad, lines.join('\n'));
    await expectRejection(
      inject({
        manifests: [bad],
        output: join(dir, 'new', 'deeper', 'm.json'),
        audioDir: join(dir, 'audio', 'canaries'),
      }),
      /bad\.json:5: /,
    );
    assert.not.ok(existsSync(join(dir, 'audio')), 'no audio dir');
    assert.not.ok(existsSync(join(dir, 'new')), 'no output folder');
  } finally {
    await cleanup();
  }
});

test('case 12: duplicate ids are refused in SpeechBrain CSV, WeNet lists and lhotse cuts, naming file, line and id', async () => {
  const { dir, set, cleanup } = await setup('rel-dupes');
  try {
    const cases: Array<{ fixture: string; file: string; line: number }> = [
      { fixture: 'speechbrain', file: 'train-clean-100.csv', line: 6 },
      { fixture: 'wenet', file: 'data.list', line: 5 },
      { fixture: 'lhotse', file: 'librispeech_cuts_train-clean-100.jsonl', line: 5 },
    ];
    for (const { fixture, file, line } of cases) {
      const path = join(await copyFixture(fixture, dir), file);
      const lines = (await readFile(path, 'utf8')).split('\n');
      // The record on `line` becomes a copy of the one two lines above.
      lines[line - 1] = lines[line - 3]!;
      await writeFile(path, lines.join('\n'));
      const error = await expectRejection(
        injectCanaries({
          manifests: [path],
          canaries: set.dir,
          output: join(dir, `${fixture}-out`, file),
          audioDir: join(dir, `${fixture}-wav`),
          sampleRate: 16000,
        }),
        new RegExp(`${file.replace(/\./g, '\\.')}:${line}: duplicate id "[^"]+"`),
      );
      assert.instance(error, RoteError);
      assert.not.ok(existsSync(join(dir, `${fixture}-wav`)));
    }
  } finally {
    await cleanup();
  }
});

test('case 12: canary audio never takes the name of a file already in the audio dir, whatever its extension or case', async () => {
  const { dir, inject, cleanup } = await setup('rel-names');
  try {
    // The names a first run draws (the plan is seeded) ...
    const first = await inject({ output: join(dir, 'first.json'), audioDir: join(dir, 'scratch') });
    const drawn = first.canaries.flatMap((c) => c.positions.map((p) => basename(p.audio, '.wav')));
    assert.is(drawn.length, COPIES);
    // ... are the corpus's own files in the audio dir of the second run.
    const corpus = join(dir, 'corpus-audio');
    await mkdir(corpus);
    await writeFile(join(corpus, `${drawn[0]}.flac`), 'corpus audio');
    await writeFile(join(corpus, `${drawn[1]!.toUpperCase()}.WAV`), 'corpus audio');
    const second = await inject({ output: join(dir, 'second.json'), audioDir: corpus });
    const names = second.canaries.flatMap((c) => c.positions.map((p) => basename(p.audio, '.wav').toLowerCase()));
    assert.not.ok(names.includes(drawn[0]!.toLowerCase()), 'not next to X.flac');
    assert.not.ok(names.includes(drawn[1]!.toLowerCase()), 'not next to X.WAV');
    assert.is(await readFile(join(corpus, `${drawn[0]}.flac`), 'utf8'), 'corpus audio');
    assert.is((await readdir(corpus)).length, 2 + COPIES);
  } finally {
    await cleanup();
  }
});

test('case 12: --audio-dir inside the canary set is refused', async () => {
  const { dir, set, inject, cleanup } = await setup('rel-inside');
  try {
    for (const audioDir of [join(set.dir, 'for-training', 'audio'), join(set.dir, 'copies'), set.dir]) {
      await expectRejection(inject({ audioDir }), /^audioDir .* is (inside )?the canary set/);
    }
    assert.not.ok(existsSync(join(set.dir, 'copies')));
    assert.is((await readdir(join(set.dir, 'for-training', 'audio'))).length, 3);
    assert.not.ok(existsSync(join(dir, 'out')));
  } finally {
    await cleanup();
  }
});

test('case 14: errors name the real flag (--out), and --help documents --force and the receipt name', async () => {
  const { nemo, inject, cleanup } = await setup('rel-flag');
  try {
    const error = await expectRejection(
      inject({ output: nemo }),
      /^output .* is the training manifest .*choose another output$/,
    );
    assert.not.match(error.message, /--output/);
    const help = execFileSync(process.execPath, [ROTE, 'inject', '--help'], { encoding: 'utf8' });
    assert.match(help, /--force/);
    assert.match(help, /\.receipt\.json/);
  } finally {
    await cleanup();
  }
});

test('case 14: disk full names the destination, not the source, and leaves nothing there (tmpfs)', async () => {
  const { dir, set, cleanup } = await setup('rel-full');
  const full = join(dir, 'full');
  await mkdir(full);
  if (!mountTmpfs(full, 'size=64k')) {
    console.log('  skipped: cannot mount a tmpfs here (needs root)');
    await cleanup();
    return;
  }
  try {
    const big = join(dir, 'big.json');
    const line = (i: number) =>
      `{"audio_filepath": "/data/${i}.wav", "duration": 1.5, "text": "sentence number ${i} of a corpus"}`;
    await writeFile(big, `${Array.from({ length: 4000 }, (_, i) => line(i)).join('\n')}\n`);
    const error = await expectRejection(
      injectCanaries({
        manifests: [big],
        canaries: set.dir,
        output: join(full, 'out.json'),
        audioDir: join(dir, 'wav'),
        sampleRate: 16000,
      }),
      /^\S*full\/out\.json: no space left on the device \(ENOSPC\)/,
    );
    assert.instance(error, RoteError);
    assert.not.match(error.message, /big\.json/);
    assert.equal(await readdir(full), [], 'no temporary file left on the full disk');
    assert.not.ok(existsSync(join(dir, 'wav')), 'no canary audio left');
    // The audio dir on the full disk: the WAV being written is named.
    await writeFile(join(full, 'filler'), Buffer.alloc(60 << 10));
    await expectRejection(
      injectCanaries({
        manifests: [big],
        canaries: set.dir,
        output: join(dir, 'out.json'),
        audioDir: join(full, 'wav'),
        sampleRate: 16000,
      }),
      /full\/wav\/[^:]*\.wav: no space left on the device \(ENOSPC\)/,
    );
    assert.equal(await readdir(full), ['filler']);
  } finally {
    unmount(full);
    await cleanup();
  }
});

test('case 14: a read-only target says "read-only file system", not ENOENT (tmpfs)', async () => {
  const { dir, inject, cleanup } = await setup('rel-readonly');
  const ro = join(dir, 'ro');
  await mkdir(ro);
  if (!mountTmpfs(ro, 'size=64k,ro')) {
    console.log('  skipped: cannot mount a read-only tmpfs here (needs root)');
    await cleanup();
    return;
  }
  try {
    for (const output of [join(ro, 'm.json'), join(ro, 'sub', 'm.json')]) {
      const error = await expectRejection(
        inject({ output }),
        /ro(\/sub)?(\/m\.json)?: read-only file system \(EROFS\)/,
      );
      assert.not.match(error.message, /ENOENT/);
    }
    const error = await expectRejection(
      inject({ audioDir: join(ro, 'wav') }),
      /ro\/wav: read-only file system \(EROFS\)/,
    );
    assert.not.match(error.message, /ENOENT/);
  } finally {
    unmount(ro);
    await cleanup();
  }
});

test("case 14: inject's first pass reports progress, and the CLI shows it on a terminal", async () => {
  const { dir, set, nemo, inject, cleanup } = await setup('rel-progress');
  try {
    const reports: Array<[number, number]> = [];
    await inject({ onScanProgress: (done: number, total: number) => reports.push([done, total]) });
    const size = (await readFile(nemo)).length;
    assert.ok(reports.length > 0);
    assert.equal(reports[reports.length - 1], [size, size]);
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]![0] >= reports[i - 1]![0]);
    // On a terminal (script(1) gives the command one), the check has its own bar.
    const command = [
      process.execPath,
      ROTE,
      'inject',
      '--manifest',
      nemo,
      '--canaries',
      set.dir,
      '--out',
      join(dir, 'cli.json'),
      '--audio-dir',
      join(dir, 'cli-wav'),
      '--sample-rate',
      '16000',
    ];
    const shell = command.map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qec', shell, '/dev/null'], { encoding: 'utf8' });
    if (tty.error) {
      console.log('  skipped the terminal half: script(1) is not installed');
      return;
    }
    assert.is(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /check \(bytes\) \[/);
  } finally {
    await cleanup();
  }
});

test.run();
