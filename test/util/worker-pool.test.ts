import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RoteError } from '../../src/util/errors.ts';
import { WorkerPool, type WorkerPoolOptions } from '../../src/util/worker-pool.ts';

// A worker speaking the pool's protocol: doubles numbers (its reply buffer transferred back),
// fails on request, exits on request, or never answers; or fails to start when workerData says so.
const WORKER_SOURCE = `
import { parentPort, workerData, threadId } from 'node:worker_threads';
if (workerData?.fatal) {
  parentPort.postMessage({ fatal: workerData.fatal, userError: workerData.userError });
} else {
  parentPort.on('message', (m) => {
    if (m.op === 'double') {
      const values = new Float64Array(m.values.length);
      for (let i = 0; i < values.length; i++) values[i] = m.values[i] * 2;
      parentPort.postMessage({ id: m.id, values, thread: threadId, received: m.values.byteLength }, [values.buffer]);
    } else if (m.op === 'fail') {
      parentPort.postMessage({ id: m.id, error: 'cannot do ' + m.what, userError: m.user });
    } else if (m.op === 'exit') {
      process.exit(7);
    }
  });
  parentPort.postMessage({ ready: true });
}`;
const WORKER_URL = new URL(`data:text/javascript;base64,${Buffer.from(WORKER_SOURCE).toString('base64')}`);

type Request =
  | { op: 'double'; values: Float64Array }
  | { op: 'fail'; what: string; user: boolean }
  | { op: 'exit' }
  | { op: 'hang' };
type Reply = { values: Float64Array; thread: number; received: number };

function start(options: Partial<WorkerPoolOptions<Request>> = {}) {
  return WorkerPool.start<Request, Reply>({
    url: WORKER_URL,
    size: 2,
    workerName: 'test worker',
    poolName: 'TestPool',
    ...options,
  });
}

test('WorkerPool: every reply reaches its own request, spread over the workers; transferred buffers move', async () => {
  const pool = await start({ requestsPerWorker: 2 });
  try {
    assert.is(pool.size, 2);
    const inputs = Array.from({ length: 20 }, (_, i) => Float64Array.from({ length: 100 + i }, (_, j) => i * 1000 + j));
    const replies = await Promise.all(
      inputs.map((values) => {
        const sent = values.slice();
        return pool
          .request({ op: 'double', values: sent }, [sent.buffer])
          .then((reply) => ({ reply, sentAfter: sent.byteLength }));
      }),
    );
    replies.forEach(({ reply, sentAfter }, i) => {
      assert.equal(
        Array.from(reply.values),
        Array.from(inputs[i]!, (v) => v * 2),
        `request ${i}`,
      );
      assert.is(reply.received, inputs[i]!.byteLength, 'the worker got the whole buffer');
      assert.is(sentAfter, 0, 'a transferred buffer is detached on the sending side');
    });
    assert.is(new Set(replies.map(({ reply }) => reply.thread)).size, 2, 'both workers served');
  } finally {
    await pool.close();
  }
});

test('WorkerPool: a failed request rejects alone (RoteError when the worker says userError, or as requestError makes it)', async () => {
  const pool = await start();
  try {
    const user = await pool.request({ op: 'fail', what: 'this', user: true }).then(
      () => null,
      (e: Error) => e,
    );
    assert.instance(user, RoteError);
    assert.is(user!.message, 'cannot do this');
    const internal = await pool.request({ op: 'fail', what: 'that', user: false }).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(internal instanceof Error && !(internal instanceof RoteError));
    const after = await pool.request({ op: 'double', values: Float64Array.of(1.5) });
    assert.equal(Array.from(after.values), [3], 'the pool keeps serving after a failed request');
  } finally {
    await pool.close();
  }
  const custom = await start({
    size: 1,
    requestError: (failure, request) => new RangeError(`${failure.error}/${failure.userError}/${request.op}`),
  });
  try {
    const error = await custom.request({ op: 'fail', what: 'x', user: true }).then(
      () => null,
      (e: Error) => e,
    );
    assert.instance(error, RangeError);
    assert.is(error!.message, 'cannot do x/true/fail');
  } finally {
    await custom.close();
  }
});

test('WorkerPool: a worker that cannot start fails the start; one that exits fails pending work and closes the pool', async () => {
  const user = await start({ workerData: { fatal: 'no such frontend', userError: true } }).then(
    () => null,
    (e: Error) => e,
  );
  assert.instance(user, RoteError);
  assert.is(user!.message, 'no such frontend');
  const internal = await start({ workerData: { fatal: 'wasm did not load' } }).then(
    () => null,
    (e: Error) => e,
  );
  assert.is(internal!.message, 'test worker failed to start: wasm did not load');
  assert.instance(
    await start({ size: 0 }).then(
      () => null,
      (e: Error) => e,
    ),
    RoteError,
  );

  const pool = await start({ size: 1, requestsPerWorker: 2 });
  const waiting = pool.request({ op: 'hang' }).then(
    () => null,
    (e: Error) => e,
  );
  const exited = await pool.request({ op: 'exit' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.match(exited!.message, /test worker exited unexpectedly \(code 7\)/);
  assert.is((await waiting)!.message, exited!.message, 'every pending request fails with the same error');
  const later = await pool.request({ op: 'double', values: Float64Array.of(1) }).then(
    () => null,
    (e: Error) => e,
  );
  assert.is(later!.message, exited!.message, 'a failed pool refuses new work with its failure');
  await pool.close();
});

test('WorkerPool: close rejects queued and running requests, refuses new ones, and can be called twice', async () => {
  const pool = await start({ size: 1 });
  const running = pool.request({ op: 'hang' }).then(
    () => null,
    (e: Error) => e,
  );
  const queued = pool.request({ op: 'double', values: Float64Array.of(2) }).then(
    () => null,
    (e: Error) => e,
  );
  await pool.close();
  await pool.close();
  assert.is((await running)!.message, 'TestPool is closed');
  assert.is((await queued)!.message, 'TestPool is closed');
  assert.is(
    (await pool.request({ op: 'double', values: Float64Array.of(2) }).then(
      () => null,
      (e: Error) => e,
    ))!.message,
    'TestPool is closed',
  );
});

test.run();
