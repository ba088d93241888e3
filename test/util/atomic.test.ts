import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { deadTemporarySibling, temporarySibling } from '../../src/util/atomic.ts';
import { processIsAlive } from '../../src/util/process.ts';

/** The pid of a process that has run and exited (a pid nobody holds right after, barring reuse). */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('processIsAlive: this process and its parent run, an exited child does not, nonsense pids are not processes', () => {
  assert.ok(processIsAlive(process.pid));
  assert.ok(processIsAlive(process.ppid));
  assert.not.ok(processIsAlive(exitedPid()));
  for (const pid of [0, -1, 1.5, Number.NaN]) assert.not.ok(processIsAlive(pid), String(pid));
});

test('deadTemporarySibling: reads back what temporarySibling names, only once its process is gone', () => {
  const ours = basename(temporarySibling('/data/out/train.csv'));
  assert.match(ours, /^\.train\.csv\.tmp-\d+-[0-9a-f]{8}$/);
  assert.is(deadTemporarySibling(ours), null, 'a live run keeps its temporary file');
  const pid = exitedPid();
  const left = ours.replace(`-${process.pid}-`, `-${pid}-`);
  assert.equal(deadTemporarySibling(left), { target: 'train.csv', pid });
  assert.equal(deadTemporarySibling(`.my.data.tmp-${pid}-0123abcd`), { target: 'my.data', pid });
  for (const other of [
    'train.csv',
    `.train.csv.tmp-${pid}`,
    `.train.csv.tmp-${pid}-XYZ01234`,
    `train.csv.tmp-${pid}-0123abcd`,
  ])
    assert.is(deadTemporarySibling(other), null, other);
});

test.run();
