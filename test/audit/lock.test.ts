/**
 * Audit output folders under faults (issue 13): one run at a time per --out (a second one is told who holds it),
 * a lock left by a dead run is taken over, and a run that fails before its first row leaves nothing behind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { audit } from '../../src/audit/index.ts';
import { lockDirectory, LOCK_FILE } from '../../src/util/lock.ts';
import { RoteError } from '../../src/util/errors.ts';
import { auditArgs, writeTestSet } from '../manifest/helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
const work = await mkdtemp(join(tmpdir(), 'rote-audit-lock-'));
const set = (await writeTestSet(join(work, 'set'), 16000, [1, 2, null, null, null])).dir;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

test("lockDirectory: a second holder is refused with pid, host and start time; a dead holder's lock is taken over with a notice", async () => {
  const dir = join(work, 'locks');
  await mkdir(dir);
  const first = await lockDirectory(dir, 'rote audit A');
  const refused = await rejection(lockDirectory(dir, 'rote audit B'));
  assert.instance(refused, RoteError);
  assert.match(
    refused.message,
    new RegExp(
      `is in use by another run: pid ${process.pid} on host ${hostname()}, started ${first.holder.started.replace(/[.]/g, '\\.')} \\(rote audit A\\)`,
    ),
  );
  await first.release();
  assert.not.ok(existsSync(join(dir, LOCK_FILE)));

  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  await writeFile(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: dead, host: hostname(), started: '2026-01-01T00:00:00.000Z', what: 'rote audit (killed)' }),
  );
  const notices: string[] = [];
  const taken = await lockDirectory(dir, 'rote audit C', (message) => notices.push(message));
  assert.equal(notices, [
    `${dir}: took over the lock of a run that is gone (pid ${dead} on host ${hostname()}, started 2026-01-01T00:00:00.000Z (rote audit (killed)))`,
  ]);
  assert.is(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  await taken.release();

  await writeFile(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: dead, host: 'another-machine', started: '2026-01-01T00:00:00.000Z', what: 'rote audit' }),
  );
  assert.match(
    (await rejection(lockDirectory(dir, 'rote audit D'))).message,
    /pid \d+ on host another-machine.*if that run is gone, delete .*\.rote\.lock/,
  );
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(ROOT, 'bin/rote.js'), ...args], (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

test('lockDirectory: a lock file just created and not yet written (empty) is waited for, not taken over as stale', async () => {
  const dir = join(work, 'fresh-empty');
  await mkdir(dir);
  // Another run has created the file with O_EXCL and is about to write its holder into it.
  await writeFile(join(dir, LOCK_FILE), '');
  const holder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), what: 'rote audit (writer)' };
  setTimeout(() => void writeFile(join(dir, LOCK_FILE), `${JSON.stringify(holder)}\n`), 300);
  const refused = await rejection(lockDirectory(dir, 'rote audit (second)'));
  assert.instance(refused, RoteError);
  assert.match(refused.message, /is in use by another run: pid \d+ on host .*\(rote audit \(writer\)\)/);
  assert.is(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).what, 'rote audit (writer)');
});

test('two audits into one --out: the second is told who holds it; once the holder is killed, the next run takes over and says so', async () => {
  const out = join(work, 'shared-out');
  await mkdir(out);
  // Another rote process holds the folder (as a running audit does).
  const holder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${join(ROOT, 'src/util/lock.ts')}').then(async (m) => { await m.lockDirectory(${JSON.stringify(out)}, 'rote audit (other)'); console.log('locked'); setTimeout(() => {}, 60000); })`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve()),
  );
  const refused = await cli(auditArgs(set, MODEL, out, '--provider', 'cpu', '--quiet'));
  assert.is(refused.code, 2);
  assert.match(
    refused.stderr,
    new RegExp(
      `^rote: ${out} is in use by another run: pid ${holder.pid} on host ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT[^ ]+ \\(rote audit \\(other\\)\\); wait for it to finish or choose another --out\\n$`,
    ),
  );
  assert.equal(await readdir(out), [LOCK_FILE], 'the refused run wrote into the folder');
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const resumed = await cli(auditArgs(set, MODEL, out, '--provider', 'cpu', '--quiet', '--bootstrap', '100'));
  // Tones, not speech: the audit completes with an inconclusive verdict (exit 5), not a lock refusal (exit 2).
  assert.is(resumed.code, 5, resumed.stderr);
  assert.match(
    resumed.stderr,
    new RegExp(`rote: ${out}: took over the lock of a run that is gone \\(pid ${holder.pid} on host`),
  );
  assert.is((await readFile(join(out, 'rows.jsonl'), 'utf8')).trim().split('\n').length, 1 + 5);
  assert.equal((await readdir(out)).sort(), ['report.html', 'report.json', 'report.md', 'rows.jsonl']);
});

test('an audit that fails before its first row leaves no header-only rows.jsonl and no folder it created', async () => {
  const out = join(work, 'nested', 'failed-out');
  const failure = await rejection(
    audit({
      canaries: set,
      model: MODEL,
      out,
      provider: 'cpu',
      onProgress: () => {
        throw new Error('progress display failed');
      },
    }),
  );
  assert.match(failure.message, /progress display failed/);
  assert.not.ok(existsSync(out), 'the failed run left its --out folder');
  // A real failure after the model loaded: canaries (0.4 s) longer than the maximum duration.
  const tooLong = await rejection(audit({ canaries: set, model: MODEL, out, provider: 'cpu', maxDurationSec: 0.3 }));
  assert.instance(tooLong, RoteError);
  assert.match(tooLong.message, /\.wav: 0\.4 s of audio, longer than --max-duration 0\.3 s/);
  assert.not.ok(existsSync(out), 'the failed run left its --out folder');
  // An existing folder stays, without a journal or lock.
  const existing = join(work, 'existing-out');
  await mkdir(existing);
  await rejection(
    audit({
      canaries: set,
      model: MODEL,
      out: existing,
      provider: 'cpu',
      onProgress: () => {
        throw new Error('progress display failed');
      },
    }),
  );
  assert.equal(await readdir(existing), []);
});

test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test.run();
