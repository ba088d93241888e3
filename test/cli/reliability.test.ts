/**
 * The CLI under faults (issue 13): `--json` into a reader that goes away (`| head`) ends quietly for every
 * command, and a killed TTS child process is named in the error. Cases listed in docs/reliability.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { auditArgs, transcribeArgs, writeTestSet } from '../manifest/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const rote = join(ROOT, 'bin/rote.js');
const MODEL = join(ROOT, 'test/fixtures/models/sidecar-ctc');
const work = await mkdtemp(join(tmpdir(), 'rote-cli-reliability-'));
const set = (await writeTestSet(join(work, 'set'), 16000, [1, 2, null, null, null])).dir;
const manifest = join(ROOT, 'test/fixtures/manifests/nemo/train_manifest.json');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [rote, ...args], (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** Runs rote with stdout closed by its reader before anything is written (as `| head` does). */
function runIntoClosedPipe(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [rote, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const INCONCLUSIVE_EXIT = 5;

test('--json into a closed pipe: every command ends quietly with its own exit status (no EPIPE stack); audit names its provider', async () => {
  const injected = join(work, 'injected.json');
  const prepared = await run([
    'inject',
    '--manifest',
    manifest,
    '--canaries',
    join(set, 'for-training'),
    '--out',
    injected,
    '--audio-dir',
    join(work, 'wav'),
    '--sample-rate',
    '16000',
    '--json',
  ]);
  assert.is(prepared.code, 0, prepared.stderr);
  const audited = await run(auditArgs(set, MODEL, join(work, 'audit-a'), '--provider', 'auto', '--bootstrap', '100'));
  // The test set is tones, not speech: no canary can be recognized, so the audit is inconclusive (exit 5) by design.
  assert.is(audited.code, INCONCLUSIVE_EXIT, audited.stderr);
  // The provider that ran, and why the ones tried before it did not (README, GPU).
  const provider = /^rote: sidecar-ctc model, ran on (\w+)( \(not used: cuda: .+\))?$/m.exec(audited.stderr);
  assert.ok(provider, audited.stderr);
  if (provider[1] !== 'cuda') assert.ok(provider[2], 'the text output does not say why cuda did not run');
  assert.match(await readFile(join(work, 'audit-a', 'report.md'), 'utf8'), new RegExp(`Provider: ${provider[1]}`));
  const commands: string[][] = [
    ['verify', '--manifest', injected, '--canaries', set, '--json'],
    auditArgs(set, MODEL, join(work, 'audit-b'), '--provider', 'cpu', '--bootstrap', '100', '--json'),
    ['compare', join(work, 'audit-a'), join(work, 'audit-b'), '--out', join(work, 'comparison'), '--json'],
    [
      'inject',
      '--manifest',
      manifest,
      '--canaries',
      join(set, 'for-training'),
      '--out',
      join(work, 'again.json'),
      '--audio-dir',
      join(work, 'wav-again'),
      '--sample-rate',
      '16000',
      '--json',
    ],
    transcribeArgs(set, MODEL, join(work, 'rows.jsonl'), '--provider', 'cpu', '--json'),
    ['inspect-model', MODEL, '--json'],
    ['doctor', '--json'],
  ];
  for (const args of commands) {
    const result = await runIntoClosedPipe(args);
    // (a JavaScript stack names .js/.ts/.mjs files; doctor's native probe warnings are captured, not printed)
    assert.is(
      result.stderr.includes('EPIPE') || /\n\s+at .*\.(?:js|mjs|ts):\d+:\d+/.test(result.stderr),
      false,
      `${args[0]}: ${result.stderr}`,
    );
    assert.is(
      result.code,
      args[0] === 'audit' ? INCONCLUSIVE_EXIT : 0,
      `${args[0]} exited ${result.code} (${result.signal}): ${result.stderr}`,
    );
  }
});

test('a TTS command killed by a signal is named in the error (exit 2)', async () => {
  const result = await run([
    'generate',
    '--out',
    join(work, 'killed'),
    '--tts-command',
    'kill -9 $$; : {text} {out}',
    '--per-group',
    '1',
    '--repetitions',
    '1',
    '--holdout',
    '1',
    '--quiet',
  ]);
  assert.is(result.code, 2);
  assert.match(result.stderr, /^rote: --tts-command failed \(killed by SIGKILL\) for text "[a-z ]+": kill -9/);
});

/** Pids of `parent`'s child processes named `name` (Linux /proc). */
function childrenNamed(parent: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && comm === name) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test("the speed-up's ffmpeg killed mid-run: one line naming it and the signal, exit 2, nothing left behind", async () => {
  if (!existsSync('/proc/self/stat')) return console.log('  (skipped: no /proc)');
  for (let attempt = 0; attempt < 5; attempt++) {
    const out = join(work, `ffmpeg-killed-${attempt}`);
    const child = spawn(
      process.execPath,
      [rote, 'generate', '--out', out, '--seed', 'ffmpeg', '--per-group', '20', '--holdout', '40', '--quiet'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let killed = false;
    let running = true;
    void exited.then(() => (running = false));
    while (running && !killed) {
      const ffmpeg = childrenNamed(child.pid!, 'ffmpeg');
      if (ffmpeg.length > 0) {
        try {
          process.kill(ffmpeg[0]!, 'SIGKILL');
          killed = true;
        } catch (error) {
          // That ffmpeg ended between the listing and the kill: look for the next one.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      } else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const code = await exited;
    if (!killed) continue; // generate finished before an ffmpeg could be caught: try again
    if (code === 0) {
      // The signal landed on an ffmpeg that had already written its output and exited: harmless, and the set
      // must then be complete. Try again for a kill that lands mid-run.
      assert.ok(existsSync(join(out, 'canary-set.json')), `exit 0 without a complete set: ${stderr}`);
      continue;
    }
    assert.is(code, 2, stderr);
    assert.match(
      stderr,
      /^rote: the speed-up's ffmpeg process \(.*ffmpeg\) was killed by SIGKILL \(out of memory, or stopped from outside\); nothing was written, run the command again\n$/,
    );
    assert.not.ok(
      (await readdir(work)).some((name) => name.includes(`ffmpeg-killed-${attempt}`)),
      'a folder was left behind',
    );
    return;
  }
  assert.unreachable('no ffmpeg process could be caught mid-run in 5 runs of generate');
});

test('a command left waiting forever (its promise never settles) still ends with a reason and a non-zero status', async () => {
  // Stand-in for a worker or child that dies without a word: the command's promise can never settle.
  const hang = join(work, 'never-settles.mjs');
  await writeFile(
    hang,
    `import { Command } from ${JSON.stringify(join(ROOT, 'node_modules/commander/esm.mjs'))};\nCommand.prototype.parseAsync = () => new Promise(() => {});\n`,
  );
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', hang, rote, 'doctor'], (_error, _stdout, stderr) =>
      resolve({ code: child.exitCode, stderr }),
    );
  });
  assert.is(result.code, 13);
  assert.match(
    result.stderr,
    /^rote: stopped with exit code 13 before the command finished: it was left waiting on work that will never complete/,
  );
});

test('--out of the wrong kind: a file where audit needs a folder, a folder where transcribe needs a file', async () => {
  const file = join(work, 'a-file');
  await writeFile(file, 'mine');
  const audited = await run(auditArgs(set, MODEL, file, '--provider', 'cpu', '--quiet'));
  assert.is(audited.code, 2);
  assert.is(audited.stderr, `rote: --out ${file}: ${file} is a file where a folder is needed; choose another --out\n`);
  assert.is(await readFile(file, 'utf8'), 'mine');
  const folder = join(work, 'a-folder');
  await mkdir(folder);
  const transcribed = await run(transcribeArgs(set, MODEL, folder, '--provider', 'cpu', '--quiet'));
  assert.is(transcribed.code, 2);
  assert.is(transcribed.stderr, `rote: --out ${folder} is a folder; give a file path\n`);
  assert.equal(
    (await readdir(work)).filter((name) => name.startsWith('.a-folder')),
    [],
    'a temporary file was left behind',
  );
});

test('a full disk and a read-only file system name the destination and the real cause (tmpfs; skipped where none can be mounted)', async () => {
  const mountPoint = join(work, 'small-disk');
  await mkdir(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
  if (mounted.status !== 0) {
    console.log(
      `  (skipped: cannot mount a tmpfs here: ${mounted.stderr?.toString().trim() || mounted.error?.message})`,
    );
    return;
  }
  try {
    const full = await run([
      'generate',
      '--out',
      join(mountPoint, 'set'),
      '--seed',
      'disk',
      '--per-group',
      '10',
      '--repetitions',
      '1,2',
      '--holdout',
      '10',
      '--quiet',
    ]);
    assert.is(full.code, 2);
    assert.is(
      full.stderr,
      `rote: --out ${join(mountPoint, 'set')}: cannot write there: no space left on the device (ENOSPC); free some space or choose another --out\n`,
    );
    assert.equal(await readdir(mountPoint), [], 'the failed run left files on the full disk');
    assert.is(spawnSync('mount', ['-o', 'remount,ro', mountPoint]).status, 0);
    const readOnly = [
      [
        'generate',
        '--out',
        join(mountPoint, 'set'),
        '--seed',
        'disk',
        '--per-group',
        '1',
        '--repetitions',
        '1',
        '--holdout',
        '1',
        '--quiet',
      ],
      auditArgs(set, MODEL, join(mountPoint, 'audit'), '--provider', 'cpu', '--quiet'),
    ];
    for (const args of readOnly) {
      const result = await run(args);
      assert.is(result.code, 2);
      assert.is(
        result.stderr,
        `rote: --out ${join(mountPoint, args[0] === 'generate' ? 'set' : 'audit')}: cannot write there: ${mountPoint} is on a read-only file system (EROFS); choose another --out\n`,
      );
    }
    const transcribed = await run(
      transcribeArgs(set, MODEL, join(mountPoint, 'rows.jsonl'), '--provider', 'cpu', '--quiet'),
    );
    assert.is(transcribed.code, 2);
    assert.is(
      transcribed.stderr,
      `rote: --out ${join(mountPoint, 'rows.jsonl')}: cannot write there: read-only file system (EROFS); choose another --out\n`,
    );
  } finally {
    spawnSync('umount', [mountPoint]);
  }
});

test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

test.run();
