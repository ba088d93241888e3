import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSystemError } from '../../src/util/errors.ts';

const rote = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

test('describeSystemError names the path and code, and ignores other errors', () => {
  const error = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
    code: 'EACCES',
    syscall: 'open',
    path: '/x',
  });
  assert.is(describeSystemError(error), '/x: permission denied (EACCES in open)');
  assert.is(describeSystemError(new Error('plain')), null);
  assert.is(describeSystemError('text'), null);
});

test('a path error no stage anticipated ends in one line, exit 2, no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-cli-errors-'));
  try {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [rote, 'generate', '--out', join(file, 'set'), '--per-group', '1', '--holdout', '2', '--repetitions', '1'],
        (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    assert.is(result.code, 2);
    assert.match(result.stderr, /a-file\/set: a part of this path is not a directory \(ENOTDIR/);
    assert.not.match(result.stderr, /\n\s+at /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
