import * as assert from 'uvu/assert';
import { RoteError } from '../../src/util/errors.ts';

/** Awaits `action`, which must fail with a RoteError whose message matches `pattern`; returns the message. */
export async function rejectsWithRoteError(action: () => Promise<unknown>, pattern: RegExp): Promise<string> {
  try {
    await action();
  } catch (error) {
    assert.instance(error, RoteError, `expected a RoteError, got ${(error as Error)?.stack ?? String(error)}`);
    assert.match((error as Error).message, pattern);
    return (error as Error).message;
  }
  assert.unreachable(`expected a RoteError matching ${pattern}`);
  return '';
}
