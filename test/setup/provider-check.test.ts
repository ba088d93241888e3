import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sessionOptions } from '../../src/setup/provider-check.ts';

test('session options: the CPU provider does not spin its intra-op threads; the thread count passes through', () => {
  const cpu = sessionOptions('cpu', { threads: 2 });
  assert.equal(cpu.executionProviders, [{ name: 'cpu' }]);
  assert.is(cpu.intraOpNumThreads, 2);
  assert.equal(cpu.extra, { session: { intra_op: { allow_spinning: '0' } } });
  assert.is(sessionOptions('cpu', {}).intraOpNumThreads, undefined, "ONNX Runtime's own thread count by default");
  const cuda = sessionOptions('cuda', { deviceId: 1 });
  assert.equal(cuda.executionProviders, [{ name: 'cuda', deviceId: 1 }]);
  assert.is(cuda.extra, undefined);
});

test.run();
