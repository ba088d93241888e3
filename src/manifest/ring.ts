/**
 * Chunks of an input file handed from the manifest worker, which reads them
 * and hashes them, to the main thread, which writes them into the output:
 * slots of shared memory, each free or filled, passed back and forth with
 * Atomics. One read of the input serves the copy and both digests
 * (scripts/bench/shared-read.mjs: 0.83-0.9x the time of the main thread
 * reading for itself while the worker read again to hash).
 */

export interface SharedRing {
  memory: SharedArrayBuffer;
  /** Int32: [abandoned, then per slot: filled, byte count]. */
  state: SharedArrayBuffer;
  slots: number;
  slotSize: number;
}

const ABANDONED = 0;
const FIELDS = 2;
const FREE = 0;
const FILLED = 1;
/** How long the worker sleeps between looks at an abandoned flag while it waits for a slot. */
const WORKER_WAIT_MS = 1000;

export function createRing(slots = 8, slotSize = 256 << 10): SharedRing {
  return { memory: new SharedArrayBuffer(slots * slotSize), state: new SharedArrayBuffer((1 + slots * FIELDS) * 4), slots, slotSize };
}

const flagOf = (slot: number): number => 1 + slot * FIELDS;

/** Atomics.waitAsync (Node >= 16), missing from TypeScript's ES2022 library. */
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** The worker's side: fills the slots in order, waiting (blocking its thread) while the next one is still being written. */
export class RingWriter {
  private readonly state: Int32Array;
  private readonly memory: Buffer;
  private sequence = 0;

  constructor(private readonly ring: SharedRing) {
    this.state = new Int32Array(ring.state);
    this.memory = Buffer.from(ring.memory);
  }

  /** The next slot to fill; throws once the reader has abandoned the copy. */
  acquire(): Buffer {
    const slot = this.sequence % this.ring.slots;
    while (Atomics.load(this.state, flagOf(slot)) !== FREE) {
      if (Atomics.load(this.state, ABANDONED) !== 0) throw new Error('the copy was abandoned by the main thread');
      Atomics.wait(this.state, flagOf(slot), FILLED, WORKER_WAIT_MS);
    }
    if (Atomics.load(this.state, ABANDONED) !== 0) throw new Error('the copy was abandoned by the main thread');
    return this.memory.subarray(slot * this.ring.slotSize, (slot + 1) * this.ring.slotSize);
  }

  /** Hands the acquired slot's first `count` bytes to the reader (0: the end of the file). */
  publish(count: number): void {
    const slot = this.sequence % this.ring.slots;
    this.state[flagOf(slot) + 1] = count;
    Atomics.store(this.state, flagOf(slot), FILLED);
    Atomics.notify(this.state, flagOf(slot));
    this.sequence++;
  }
}

/**
 * The main thread's side: takes the filled slots in order without blocking
 * the event loop. `producer` is the worker's request: when it fails, the
 * waiting read fails with it instead of waiting forever.
 */
export class RingReader {
  private readonly state: Int32Array;
  private readonly memory: Buffer;
  private readonly settled: Promise<'done'>;
  private sequence = 0;
  private holding = false;

  constructor(private readonly ring: SharedRing, producer: Promise<unknown>) {
    this.state = new Int32Array(ring.state);
    this.memory = Buffer.from(ring.memory);
    this.settled = producer.then(() => 'done' as const);
    this.settled.catch(() => undefined);
  }

  /** The next chunk (empty at the end of the file); valid until release(). */
  async next(): Promise<Buffer> {
    const slot = this.sequence % this.ring.slots;
    while (Atomics.load(this.state, flagOf(slot)) !== FILLED) {
      const waiting = waitAsync(this.state, flagOf(slot), FREE);
      if (!waiting.async) continue;
      const woken = await Promise.race([waiting.value, this.settled]);
      if (woken === 'done' && Atomics.load(this.state, flagOf(slot)) !== FILLED) throw new Error('the manifest worker finished without filling the next chunk');
    }
    this.holding = true;
    const count = this.state[flagOf(slot) + 1]!;
    return this.memory.subarray(slot * this.ring.slotSize, slot * this.ring.slotSize + count);
  }

  /** Gives the chunk from next() back to the worker. */
  release(): void {
    if (!this.holding) return;
    const slot = this.sequence % this.ring.slots;
    this.holding = false;
    this.sequence++;
    Atomics.store(this.state, flagOf(slot), FREE);
    Atomics.notify(this.state, flagOf(slot));
  }

  /** Stops the worker's side (it fails its request) when the main thread cannot go on. */
  abandon(): void {
    Atomics.store(this.state, ABANDONED, 1);
    for (let slot = 0; slot < this.ring.slots; slot++) Atomics.notify(this.state, flagOf(slot));
  }
}
