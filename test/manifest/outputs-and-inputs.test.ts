/**
 * inject and verify under issue 21 (reliability round 3): an output never lands on an input (item 1), injecting
 * twice (item 6), two injects into one --out (item 7), inputs that are not regular files (item 9), Ctrl-C, symbolic
 * link loops and a UTF-8 byte order mark (item 10). Each test failed on the code before this change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { injectCanaries, verifyInjection } from '../../src/manifest/index.ts';
import { sha256Hex } from '../../src/util/hash.ts';
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

/** sha256 of every file under `dir`, by relative path. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length)] = sha256Hex(await readFile(path));
  }
  return out;
}

function rote(args: string[], options: { cwd?: string; input?: string; timeout?: number } = {}) {
  return spawnSync(process.execPath, [ROTE, ...args], { encoding: 'utf8', timeout: 30_000, ...options });
}

test('item 1: --receipt onto the training manifest is refused with and without --force, naming both; the manifest is untouched', async () => {
  const { dir, nemo, inject, cleanup } = await setup('guard-receipt');
  try {
    const before = await readFile(nemo);
    for (const force of [false, true]) {
      await expectRejection(
        inject({ receipt: nemo, force }),
        new RegExp(
          `^receipt ${nemo} is the training manifest ${nemo}, which this run reads \\(manifests\\); an output never replaces an input`,
        ),
      );
    }
    assert.equal(await readFile(nemo), before);
    assert.not.ok(existsSync(join(dir, 'out')), 'no output folder');
    assert.not.ok(existsSync(join(dir, 'wav')), 'no audio dir');
    // The CLI names the flags.
    const cli = rote([
      'inject',
      '--manifest',
      nemo,
      '--canaries',
      join(dir, 'set'),
      '--out',
      join(dir, 'o.json'),
      '--audio-dir',
      join(dir, 'wav'),
      '--sample-rate',
      '16000',
      '--receipt',
      nemo,
      '--force',
    ]);
    assert.is(cli.status, 2, cli.stderr);
    assert.match(
      cli.stderr,
      new RegExp(
        `^rote: --receipt ${nemo} is the training manifest ${nemo}, which this run reads \\(--manifest\\); an output never replaces an input \\(not even with --force\\): choose another --receipt\\n$`,
      ),
    );
    assert.equal(await readFile(nemo), before);
  } finally {
    await cleanup();
  }
});

test('item 1: --out onto the canary set (canary-set.json, the for-training list, a canary WAV, the set folder) is refused with --force; the set is untouched', async () => {
  const { dir, set, inject, cleanup } = await setup('guard-set');
  try {
    const before = await snapshot(set.dir);
    const wav = join(set.dir, 'for-training', set.inserted[0]!.audio);
    for (const [output, how] of [
      [join(set.dir, 'canary-set.json'), 'is inside the canary set'],
      [join(set.dir, 'for-training', 'canaries.json'), "is inside the canary set's for-training folder"],
      [wav, 'is canary audio'],
      [join(set.dir, 'for-training', 'new.json'), "is inside the canary set's for-training folder"],
    ] as const) {
      await expectRejection(inject({ output, force: true }), new RegExp(`^output ${output} ${how}`));
      await expectRejection(
        inject({ output: join(dir, 'o.json'), receipt: output, force: true }),
        new RegExp(`^receipt ${output} ${how}`),
      );
    }
    // A Kaldi data dir written whole (and replaced with --force) may not be, or hold, the canary set.
    const kaldi = await copyFixture('kaldi', dir);
    await expectRejection(
      inject({ manifests: [join(kaldi, 'train')], output: set.dir, force: true }),
      new RegExp(`^output ${set.dir} is the canary set ${set.dir}`),
    );
    const text = join(kaldi, 'train', 'text');
    await expectRejection(
      inject({ manifests: [join(kaldi, 'train')], output: join(dir, 'k'), receipt: text, force: true }),
      new RegExp(`^receipt ${text} is a table of the training data dir ${text}`),
    );
    const boxed = await writeTestSet(join(dir, 'box', 'set'));
    await expectRejection(
      inject({ manifests: [join(kaldi, 'train')], canaries: boxed.dir, output: join(dir, 'box'), force: true }),
      new RegExp(`^output ${join(dir, 'box')} holds the canary set's for-training folder`),
    );
    assert.equal(await snapshot(set.dir), before);
  } finally {
    await cleanup();
  }
});

test('item 1: symbolic and hard links to the manifest, an --out folder that is the manifest folder, and a symlinked set are refused', async () => {
  const { dir, set, nemo, inject, cleanup } = await setup('guard-links');
  try {
    const before = await readFile(nemo);
    await symlink(nemo, join(dir, 'soft.json'));
    await link(nemo, join(dir, 'hard.json'));
    await expectRejection(
      inject({ output: join(dir, 'soft.json'), force: true }),
      new RegExp(`soft\\.json is the training manifest ${nemo} \\(through a symbolic link: ${nemo}\\)`),
    );
    await expectRejection(
      inject({ output: join(dir, 'hard.json'), force: true }),
      new RegExp(`hard\\.json is a hard link to the training manifest ${nemo}`),
    );
    // Shards into a folder: the folder holding the inputs would receive each input's name.
    const second = join(dir, 'nemo', 'dev.json');
    await copyFile(nemo, second);
    await expectRejection(
      inject({ manifests: [nemo, second], output: join(dir, 'nemo'), force: true }),
      /is the training manifest/,
    );
    // The receipt through a symlinked folder that points into the set.
    await symlink(set.dir, join(dir, 'set-link'));
    await expectRejection(
      inject({ receipt: join(dir, 'set-link', 'canary-set.json'), force: true }),
      /is inside the canary set/,
    );
    assert.equal(await readFile(nemo), before);
    assert.not.ok(existsSync(join(dir, 'out')));
  } finally {
    await cleanup();
  }
});

test('item 1: without --force, a path holding a file rote did not write names that file (not "the receipt of an earlier injection")', async () => {
  const { dir, inject, cleanup } = await setup('guard-receipt-foreign');
  try {
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'my notes\n');
    for (const force of [false, true]) {
      const error = await expectRejection(
        inject({ receipt: notes, force }),
        new RegExp(`^${notes}: a file that is not a receipt written by rote inject is there`),
      );
      assert.not.match(error.message, /earlier injection/);
    }
    assert.is(await readFile(notes, 'utf8'), 'my notes\n');
    // A receipt rote wrote is replaced with --force.
    await inject();
    await inject({ force: true, audioDir: join(dir, 'wav2') });
  } finally {
    await cleanup();
  }
});

/** NeMo lines; with `canaryAt`, the line at that number carries `canaryText`. */
function nemoLines(count: number, canaryAt = 0, canaryText = '', upper = false): string {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const corpus = `utterance number ${i} of a corpus`;
    const text = i === canaryAt ? canaryText : upper ? corpus.toUpperCase() : corpus;
    lines.push(JSON.stringify({ audio_filepath: `/data/u${i}.wav`, duration: 1.5, text }));
  }
  return `${lines.join('\n')}\n`;
}

test("item 6: injecting into a manifest that holds the set's canaries is refused, naming the first line (NeMo, SpeechBrain CSV, Kaldi)", async () => {
  const { dir, set, inject, cleanup } = await setup('twice');
  try {
    const once = await inject();
    const output = join(dir, 'out', 'm.json');
    const firstLine = Math.min(...once.canaries.flatMap((c) => c.positions.map((p) => p.line)));
    const text = (await readFile(output, 'utf8')).split('\n')[firstLine - 1]!;
    const canary = set.inserted.find((c) => text.includes(JSON.stringify(c.text)))!;
    await expectRejection(
      inject({ manifests: [output], output: join(dir, 'twice.json'), audioDir: join(dir, 'wav2') }),
      new RegExp(
        `^${output}:${firstLine}: holds canary ${canary.id} of this set \\("${canary.text}"\\); the manifest already holds this set's canaries`,
      ),
    );
    assert.not.ok(existsSync(join(dir, 'twice.json')));
    assert.not.ok(existsSync(join(dir, 'wav2')));

    const csv = join(await copyFixture('speechbrain', dir), 'train-clean-100.csv');
    await inject({ manifests: [csv], output: join(dir, 'sb.csv'), audioDir: join(dir, 'wav-sb') });
    await expectRejection(
      inject({ manifests: [join(dir, 'sb.csv')], output: join(dir, 'sb2.csv'), audioDir: join(dir, 'wav-sb2') }),
      /sb\.csv:\d+: holds canary \w+ of this set/,
    );

    const kaldi = await copyFixture('kaldi', dir);
    await inject({ manifests: [join(kaldi, 'train')], output: join(dir, 'k1'), audioDir: join(dir, 'wav-k') });
    await expectRejection(
      inject({ manifests: [join(dir, 'k1')], output: join(dir, 'k2'), audioDir: join(dir, 'wav-k2') }),
      /k1\/text:\d+: holds canary \w+ of this set .*the data dir already holds/,
    );
  } finally {
    await cleanup();
  }
});

test('item 6: a canary far past the fully checked records (JSON-lines fast path, any --check, spelled like the corpus) is found and its line named', async () => {
  const { dir, set, inject, cleanup } = await setup('twice-fast');
  try {
    // The fast path looks for a canary with the most copies (an injected manifest holds all of them).
    const canary = [...set.inserted].sort((a, b) => b.repetitions! - a.repetitions!)[0]!;
    const manifest = join(dir, 'big.json');
    for (const [spelling, check] of [
      [canary.text, 'structure'],
      [canary.text.toUpperCase(), 'full'],
    ] as const) {
      // An upper-case corpus gets upper-case canary transcripts (inject spells them like the first transcript).
      await writeFile(manifest, nemoLines(12_000, 11_500, spelling, spelling !== canary.text));
      await expectRejection(
        inject({ manifests: [manifest], check }),
        new RegExp(`^${manifest}:11500: holds canary ${canary.id} of this set`),
      );
    }
    // A corpus line that merely quotes the text inside a longer transcript is no canary.
    await writeFile(manifest, nemoLines(12_000, 11_500, `he said ${canary.text} twice`));
    await inject({ manifests: [manifest] });
  } finally {
    await cleanup();
  }
});

test('item 7: a second inject into a locked --out is refused, naming the lock and the other pid; the lock goes with the run', async () => {
  const { dir, inject, cleanup } = await setup('lock');
  try {
    const output = join(dir, 'out', 'm.json');
    await mkdir(join(dir, 'out'));
    // Another process holds the lock (as a concurrent inject does while it runs).
    const code = `const { lockOutputFile } = await import(${JSON.stringify(join(ROOT, 'src/util/lock.ts'))});
      await lockOutputFile(${JSON.stringify(output)}, 'rote inject --out ${output}');
      process.stdout.write('locked\\n'); setTimeout(() => {}, 60_000);`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', () => resolve());
        holder.on('exit', () => reject(new Error('the lock holder exited')));
      });
      const lock = join(dir, 'out', '.m.json.rote.lock');
      await expectRejection(
        inject(),
        new RegExp(
          `^${output} is in use by another run: pid ${holder.pid} on host .*, which holds the lock ${lock.replace(/\./g, '\\.')}; wait for it to finish or choose another --out$`,
        ),
      );
      assert.not.ok(existsSync(output));
      assert.not.ok(existsSync(join(dir, 'wav')));
    } finally {
      holder.kill('SIGKILL');
    }
    // Two runs at once through the CLI: one writes, the other is refused (or finds the output there).
    const args = (n: number) => [
      'inject',
      '--manifest',
      join(dir, 'nemo', 'train_manifest.json'),
      '--canaries',
      join(dir, 'set'),
      '--out',
      join(dir, 'both.json'),
      '--audio-dir',
      join(dir, `wav-${n}`),
      '--sample-rate',
      '16000',
    ];
    const run = (n: number) =>
      promisify(execFile)(process.execPath, [ROTE, ...args(n)]).then(
        () => 0,
        (error: { code?: number; stderr?: string }) => (
          assert.match(error.stderr ?? '', /is in use by another run|already exists/),
          error.code
        ),
      );
    const codes = await Promise.all([run(1), run(2)]);
    assert.equal(codes.sort(), [0, 2]);
    assert.equal((await readdir(dir)).filter((n) => n.includes('both.json')).sort(), [
      'both.json',
      'both.json.receipt.json',
    ]);
  } finally {
    await cleanup();
  }
});

test('item 9: a manifest that is a FIFO or a pipe on /dev/stdin is refused up front (inject, verify, --format nemo), no hang', async () => {
  const { dir, nemo, inject, cleanup } = await setup('fifo');
  try {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    await expectRejection(
      inject({ manifests: [fifo] }),
      /fifo\.json: the manifest is a pipe \(FIFO\), not a regular file \(rote reads a manifest more than once.*write it to a file first/,
    );
    await expectRejection(inject({ manifests: [fifo], format: 'nemo' }), /is a pipe \(FIFO\), not a regular file/);
    await expectRejection(verifyInjection({ manifests: [fifo], canaries: join(dir, 'set') }), /is a pipe \(FIFO\)/);
    const piped = rote(['verify', '--manifest', '/dev/stdin', '--canaries', join(dir, 'set'), '--format', 'nemo'], {
      input: await readFile(nemo, 'utf8'),
      timeout: 20_000,
    });
    assert.is(piped.status, 2, `${piped.stderr} (signal ${piped.signal})`);
    assert.match(piped.stderr, /\/dev\/stdin: the manifest is a (socket|pipe \(FIFO\)), not a regular file/);
    assert.not.match(piped.stderr, /ESPIPE/);
  } finally {
    await cleanup();
  }
});

test('item 10: Ctrl-C (SIGINT) or SIGTERM during inject removes its temporary files and the folders it created, and ends as interrupted', async () => {
  const { dir, set, nemo, cleanup } = await setup('sigint');
  try {
    const options = {
      manifests: [nemo],
      canaries: set.dir,
      output: join(dir, 'out', 'm.json'),
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
    };
    for (const signal of ['SIGINT', 'SIGTERM']) {
      // The child signals itself at its first progress report of pass 2, while the output and audio are written.
      const code = `const { injectCanaries } = await import(${JSON.stringify(join(ROOT, 'src/manifest/index.ts'))});
        await injectCanaries({ ...${JSON.stringify(options)}, onProgress: () => process.kill(process.pid, '${signal}') });`;
      const ended = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        {
          cwd: ROOT,
        },
      ).then(
        () => null,
        (error: { signal?: string }) => error,
      );
      assert.is(ended?.signal, signal);
      // The folders this run created go too (they are empty once its files are removed).
      assert.not.ok(existsSync(join(dir, 'out')), `no --out folder after ${signal}`);
      assert.not.ok(existsSync(join(dir, 'wav')), `no --audio-dir after ${signal}`);
    }
  } finally {
    await cleanup();
  }
});

test('item 10: a symbolic link loop is named as one (manifest, output, canary set), not "no such file"', async () => {
  const { dir, inject, cleanup } = await setup('loop');
  try {
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    for (const run of [
      () => inject({ manifests: [join(dir, 'a')] }),
      () => verifyInjection({ manifests: [join(dir, 'a')], canaries: join(dir, 'set') }),
      () => inject({ output: join(dir, 'a') }),
      () => inject({ canaries: join(dir, 'a') }),
    ]) {
      const error = await expectRejection(run(), /symbolic link loop at .*\/a \(ELOOP\)/);
      assert.not.match(error.message, /no such|ENOENT/);
    }
  } finally {
    await cleanup();
  }
});

test('item 10: a NeMo manifest with a UTF-8 byte order mark is detected, injected (the mark stays first) and verified', async () => {
  const { dir, nemo, inject, cleanup } = await setup('bom');
  try {
    const bom = join(dir, 'bom.json');
    await writeFile(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), await readFile(nemo)]));
    const verified = rote(['verify', '--manifest', bom, '--canaries', join(dir, 'set'), '--format', 'nemo']);
    assert.not.match(verified.stderr, /unknown manifest format|malformed/);
    assert.match(verified.stdout, /nemo: \d+ records/);
    const output = join(dir, 'out', 'm.json');
    // Seeds that put a canary before the first record and seeds that do not.
    for (const seed of ['a', 'b', 'c', 'd']) {
      const receipt = await inject({ manifests: [bom], seed, force: true });
      const bytes = await readFile(output);
      assert.equal([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      assert.is(bytes.indexOf(Buffer.from([0xef, 0xbb, 0xbf]), 1), -1, 'one mark, at the start');
      const report = await verifyInjection({ manifests: [output], canaries: join(dir, 'set') });
      assert.ok(report.ok, JSON.stringify(report));
      assert.ok(receipt.canaries.some((c) => c.positions.some((p) => p.line === 1)) || seed !== 'x');
    }
  } finally {
    await cleanup();
  }
});

test.run();
