/**
 * Issue 21 item 1 beyond inject: generate, import-canaries, audit, transcribe and compare resolve their outputs
 * against what they read and refuse a collision with or without --force, naming both (the guard is in the API,
 * src/util/output-guard.ts); item 9: a FIFO as import audio is refused instead of hanging. Each test failed on the
 * code before this change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../../src/audit/index.ts';
import { writeComparisonReport } from '../../src/audit/compare/write.ts';
import type { ComparisonReport } from '../../src/audit/report/types.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import { expectRejection, temporaryDir, writeTestSet } from '../manifest/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROTE = join(ROOT, 'bin/rote.js');
const MODEL = join(ROOT, 'models/baseline');

function rote(args: string[], timeout = 60_000) {
  return spawnSync(process.execPath, [ROTE, ...args], { encoding: 'utf8', timeout });
}

async function digest(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}

test('generate --force refuses an --out set that holds its --exclude-words file; the set is untouched', async () => {
  const { dir, cleanup } = await temporaryDir('cli-guard-generate');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const file = join(set.dir, 'canary-set.json');
    const before = await digest(file);
    const result = rote(['generate', '--out', set.dir, '--force', '--exclude-words', file, '--seed', 's']);
    assert.is(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^rote: --out ${set.dir} holds the excluded words ${file}, which this run reads \\(--exclude-words\\); an output never replaces an input \\(not even with --force\\): choose another --out\\n$`,
      ),
    );
    assert.is(await digest(file), before);
  } finally {
    await cleanup();
  }
});

test('import-canaries --force refuses an --out set that holds the audio it imports', async () => {
  const { dir, cleanup } = await temporaryDir('cli-guard-import');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const rows = set.set.canaries.map((c) => `${c.id}\t${c.text}\t${c.repetitions ?? 'held-out'}\t${c.audio}`);
    const list = join(dir, 'list.tsv');
    await writeFile(list, `id\ttext\trepetitions\taudio\n${rows.join('\n')}\n`);
    const before = await digest(join(set.dir, 'canary-set.json'));
    const result = rote(['import-canaries', '--list', list, '--audio-dir', set.dir, '--out', set.dir, '--force']);
    assert.is(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^rote: --out ${set.dir} is the audio folder ${set.dir}, which this run reads \\(--audio-dir\\)`),
    );
    // Audio in a folder inside the set: the list names it from the folder it is in.
    await writeFile(list, `id\ttext\trepetitions\taudio\n${rows.map((r) => r.replace('\taudio/', '\t')).join('\n')}\n`);
    const nested = rote(['import-canaries', '--list', list, '--audio-dir', join(set.dir, 'audio'), '--out', set.dir]);
    assert.is(nested.status, 2, nested.stderr);
    assert.match(nested.stderr, new RegExp(`^rote: --out ${set.dir} holds the audio folder ${join(set.dir, 'audio')}`));
    assert.is(await digest(join(set.dir, 'canary-set.json')), before);
  } finally {
    await cleanup();
  }
});

test('import-canaries: a FIFO as canary audio is refused (it hung before)', async () => {
  const { dir, cleanup } = await temporaryDir('cli-fifo-import');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const rows = set.set.canaries.map((c) => `${c.id}\t${c.text}\t${c.repetitions ?? 'held-out'}\t${c.audio}`);
    execFileSync('mkfifo', [join(dir, 'fifo.wav')]);
    rows[1] = rows[1]!.replace(/\t[^\t]*$/, '\t../fifo.wav');
    const list = join(dir, 'set', 'list.tsv');
    await writeFile(list, `id\ttext\trepetitions\taudio\n${rows.join('\n')}\n`);
    const result = rote(['import-canaries', '--list', list, '--out', join(dir, 'imported')], 20_000);
    assert.is(result.status, 2, `${result.stderr} (signal ${result.signal})`);
    assert.match(result.stderr, /list\.tsv:3: audio .*fifo\.wav is a pipe \(FIFO\), not a regular file/);
  } finally {
    await cleanup();
  }
});

test('audit refuses an --out inside the canary set or the model folder, before loading the model', async () => {
  const { dir, cleanup } = await temporaryDir('cli-guard-audit');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const model = join(dir, 'model');
    await mkdir(model);
    for (const name of ['model.onnx', 'tokens.txt']) await copyFile(join(MODEL, name), join(model, name));
    const before = await digest(join(set.dir, 'canary-set.json'));
    await expectRejection(
      audit({ canaries: set.dir, model, out: join(set.dir, 'audit') }),
      new RegExp(
        `^out ${join(set.dir, 'audit')} is inside the canary set ${set.dir}, which this run reads \\(canaries\\); an output never replaces an input: choose another out$`,
      ),
    );
    await expectRejection(audit({ canaries: set.dir, model, out: model }), /^out .* is the model /);
    const cli = rote(['audit', '--canaries', set.dir, '--model', model, '--out', join(model, 'report')]);
    assert.is(cli.status, 2, cli.stderr);
    assert.match(
      cli.stderr,
      /^rote: --out .*\/model\/report is inside the model .*\(--model\); an output never replaces an input: choose another --out\n$/,
    );
    assert.is(await digest(join(set.dir, 'canary-set.json')), before);
  } finally {
    await cleanup();
  }
});

test('transcribe refuses an --out that is one of its input WAVs or a file of the model', async () => {
  const { dir, cleanup } = await temporaryDir('cli-guard-transcribe');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    const wav = join(set.dir, set.set.canaries[0]!.audio);
    const before = await digest(wav);
    const onWav = rote(['transcribe', '--model', MODEL, '--input', wav, '--out', wav]);
    assert.is(onWav.status, 2, onWav.stderr);
    assert.match(onWav.stderr, new RegExp(`^rote: --out ${wav} is audio ${wav}, which this run reads \\(--input\\)`));
    const model = join(dir, 'model');
    await mkdir(model);
    for (const name of ['model.onnx', 'tokens.txt']) await copyFile(join(MODEL, name), join(model, name));
    const onModel = rote(['transcribe', '--model', model, '--canaries', set.dir, '--out', join(model, 'tokens.txt')]);
    assert.is(onModel.status, 2, onModel.stderr);
    assert.match(onModel.stderr, /--out .*tokens\.txt is inside the model .*\(--model\)/);
    assert.is(await digest(wav), before);
  } finally {
    await cleanup();
  }
});

test('compare refuses an --out folder that holds a report it compared, with --force', async () => {
  const { dir, cleanup } = await temporaryDir('cli-guard-compare');
  try {
    const reportPath = join(dir, 'audit', 'report.json');
    await mkdir(join(dir, 'audit'));
    await writeFile(reportPath, '{"kind": "stand-in"}\n');
    const comparison = { models: [{ reportPath }, { reportPath: null }] } as unknown as ComparisonReport;
    await expectRejection(
      writeComparisonReport(comparison, join(dir, 'audit'), { force: true }),
      new RegExp(
        `^out ${join(dir, 'audit')} holds the audit report ${reportPath}, which this run reads; an output never replaces an input \\(not even with force\\)`,
      ),
    );
    assert.is(await readFile(reportPath, 'utf8'), '{"kind": "stand-in"}\n');
  } finally {
    await cleanup();
  }
});

test.run();
