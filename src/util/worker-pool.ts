/**
 * A typed pool of worker threads that answer requests by id.
 *
 * The protocol a worker speaks: once started it posts `{ ready: true }`, or
 * `{ fatal, userError? }` when it cannot serve; then for every request
 * `{ id, ...fields }` it posts one reply with the same id, either the result
 * (any fields but `error`) or `{ id, error, userError? }`. `userError` marks a
 * RoteError on the worker's side, so the caller gets a RoteError too.
 *
 * Requests go to the least busy worker, up to `requestsPerWorker` at a time
 * (more than one keeps a worker from idling for a round trip through this
 * thread), in the order they are made. A worker that has nothing to do is
 * unref'd, so an idle pool never keeps the process alive. A worker that
 * crashes, reports a fatal error or exits fails every pending request and
 * closes the pool.
 */
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import { RoteError } from './errors.ts';

export type WorkerStatus = { ready: true } | { fatal: string; userError?: boolean };
/** A failed request's reply: the message, whether it is the user's to fix, and Node's error code (ENOENT, ...) if any. */
export type WorkerFailure = { id: number; error: string; userError?: boolean; code?: string };

export interface WorkerPoolOptions<Request> {
  /** The worker's entry: plain JavaScript or a bundle (the worker starts with no execArgv, so without tsx). */
  url: URL;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  /** Number of workers (a positive integer). */
  size: number;
  /** Requests sent to one worker before it answers (default 1; Infinity: all at once). */
  requestsPerWorker?: number;
  /** Unref workers that have nothing to do (default true). */
  unrefWhenIdle?: boolean;
  /** How a worker is named in errors, e.g. "feature worker". */
  workerName: string;
  /** How the pool is named in errors, e.g. "FeaturePool". */
  poolName: string;
  /** The error a failed request rejects with; default a RoteError when `userError`, else an Error. */
  requestError?: (failure: WorkerFailure, request: Request) => Error;
}

interface Job<Request, Reply> {
  id: number;
  request: Request;
  transfer: readonly TransferListItem[];
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

export class WorkerPool<Request extends object, Reply extends object> {
  private readonly workers: Worker[] = [];
  /** Ready workers with how many requests each has been sent and not answered. */
  private readonly inFlight = new Map<Worker, number>();
  private readonly queue: Job<Request, Reply>[] = [];
  private readonly running = new Map<number, Job<Request, Reply>>();
  private readonly requestsPerWorker: number;
  private readonly unrefWhenIdle: boolean;
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(private readonly options: WorkerPoolOptions<Request>) {
    this.requestsPerWorker = options.requestsPerWorker ?? 1;
    this.unrefWhenIdle = options.unrefWhenIdle ?? true;
  }

  /** Starts the workers and waits until each is ready; on a failure, stops them all and rejects. */
  static async start<Request extends object, Reply extends object>(
    options: WorkerPoolOptions<Request>,
  ): Promise<WorkerPool<Request, Reply>> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RoteError(`${options.poolName}: the number of workers must be a positive integer, got ${options.size}`);
    const pool = new WorkerPool<Request, Reply>(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(): Promise<void> {
    const { url, workerData, resourceLimits, workerName } = this.options;
    return new Promise((resolve, reject) => {
      const worker = new Worker(url, { execArgv: [], workerData, ...(resourceLimits ? { resourceLimits } : {}) });
      this.workers.push(worker);
      let ready = false;
      worker.on('message', (message: WorkerStatus | WorkerFailure | (Reply & { id: number })) => {
        if ('ready' in message) {
          ready = true;
          if (this.unrefWhenIdle) worker.unref();
          this.inFlight.set(worker, 0);
          resolve();
          this.dispatch();
          return;
        }
        if ('fatal' in message) {
          const error = message.userError
            ? new RoteError(message.fatal)
            : new Error(`${workerName} failed to start: ${message.fatal}`);
          if (!ready) reject(error);
          this.fail(error);
          return;
        }
        const job = this.running.get(message.id);
        this.running.delete(message.id);
        const remaining = (this.inFlight.get(worker) ?? 1) - 1;
        this.inFlight.set(worker, remaining);
        if (remaining === 0 && this.unrefWhenIdle) worker.unref();
        if (job) {
          if ('error' in message && typeof message.error === 'string')
            job.reject(this.requestError(message as WorkerFailure, job.request));
          else job.resolve(message as Reply);
        }
        this.dispatch();
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        this.fail(error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`${workerName} exited unexpectedly (code ${code})`);
        if (!ready) reject(error);
        if (!this.closed) this.fail(error);
      });
    });
  }

  private requestError(failure: WorkerFailure, request: Request): Error {
    if (this.options.requestError) return this.options.requestError(failure, request);
    return failure.userError ? new RoteError(failure.error) : new Error(failure.error);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Sends `{ id, ...request }` to a worker (moving `transfer` to it) and resolves
   * with its reply, which carries the same `id`.
   */
  request(request: Request, transfer: readonly TransferListItem[] = []): Promise<Reply & { id: number }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`${this.options.poolName} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, transfer, resolve: resolve as (reply: Reply) => void, reject });
      this.dispatch();
    });
  }

  /** Sends queued requests to the least busy workers, up to requestsPerWorker each. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let target: Worker | null = null;
      let least = this.requestsPerWorker;
      for (const [worker, count] of this.inFlight) {
        if (count < least) {
          target = worker;
          least = count;
        }
      }
      if (!target) return;
      const job = this.queue.shift()!;
      this.running.set(job.id, job);
      this.inFlight.set(target, least + 1);
      if (least === 0 && this.unrefWhenIdle) target.ref();
      target.postMessage({ ...job.request, id: job.id }, job.transfer);
    }
  }

  private fail(error: Error): void {
    if (this.failure || this.closed) return;
    this.failure = error;
    this.rejectPending(error);
    void this.close();
  }

  private rejectPending(error: Error): void {
    for (const job of [...this.queue, ...this.running.values()]) job.reject(error);
    this.queue.length = 0;
    this.running.clear();
  }

  /** Stops every worker; pending requests are rejected. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectPending(new Error(`${this.options.poolName} is closed`));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
