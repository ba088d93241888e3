import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));

test('the README API script runs as written on the shipped models', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const script = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(script, 'README.md has a ```ts block');
  assert.match(script!, /from 'rote'/);
  // Inside the package, so that `import ... from 'rote'` resolves to this checkout (self-reference).
  const dir = join(root, '.cache', `readme-test-${process.pid}`);
  await mkdir(dir, { recursive: true });
  try {
    const file = join(dir, 'snippet.mts');
    await writeFile(file, script!);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      maxBuffer: 1 << 24,
    });
    assert.match(stdout, /models\/baseline \[detected\] memorization detected from 1 repetition/);
    assert.match(stdout, /models\/control \[not-detected\] no memorization detected/);
    assert.match(stdout, /held-out: CER 0\.\d+ \[/);
    assert.match(
      stdout,
      /cer over 60 canaries: p = \d\.\de-\d+ \(smallest possible \d\.\de-\d+\): other-memorizes-less/,
    );
    assert.match(
      stdout.trim().split('\n').pop()!,
      /^control memorizes less than baseline \(paired Wilcoxon signed-rank over all 60 inserted canaries, one-sided/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(join(root, 'rote-out', 'api'), { recursive: true, force: true });
  }
});

test.run();
