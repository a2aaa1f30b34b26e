/**
 * `Semaphore`: at most `n` permits held at once; the others wait, highest
 * priority first. Permits are taken around a function (`acquire`,
 * `bulkAcquire`, …) or by hand (`tryAcquire`, `acquireWithTimeout`) and then
 * given back with `release()`.
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { AbortError, reasonToError } from "../base/errors.ts";
import {
  assertFunction,
  assertInteger,
  assertMs,
  describe,
  fail,
  typeError,
} from "../base/_validate.ts";

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  priority: number;
  /** Permits it waits for (all granted at once). */
  count: number;
}

const DISPOSED_MESSAGE = "Semaphore disposed";
const WHAT = "Cannot acquire semaphore";
/** The longest delay a timer takes (2^31-1 ms, about 24.8 days). */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * A counting semaphore. `acquire(fn)` runs `fn` while holding one of the
 * permits and gives it back when `fn` settles; callers beyond the permits wait
 * in order of priority (higher first, then first come). With a `signal` (as
 * `scope.semaphore(n)` passes the scope's), every waiter is rejected with the
 * abort reason when it aborts, and so is every later `acquire`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@go-go-scope/adapter-fastify/core";
 *
 * const sem = new Semaphore(2);
 * let running = 0, peak = 0;
 * const job = () => sem.acquire(async () => {
 *   peak = Math.max(peak, ++running);
 *   await new Promise((resolve) => setTimeout(resolve, 5));
 *   running--;
 * });
 * await Promise.all([job(), job(), job(), job()]);
 * console.log(peak, sem.available); // 2 2
 * ```
 */
export class Semaphore implements AsyncDisposable {
  readonly #total: number;
  #permits: number;
  #queue: Waiter[] | undefined;
  #ended = false;
  #reason: Error | undefined;
  #watch: Disposable | undefined;

  /**
   * Creates a semaphore with every permit free.
   *
   * @param permits How many holders at once: an integer >= 1.
   * @param signal Rejects every waiter (and later `acquire`) with its reason when it aborts.
   * @throws {TypeError | RangeError} When `permits` is not an integer >= 1 or `signal` not an AbortSignal.
   */
  constructor(permits: number, signal?: AbortSignal) {
    assertInteger("Cannot create semaphore", "permits", permits, 1);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw typeError(
        `Cannot create semaphore: "signal" must be an AbortSignal, received ${describe(signal)}`,
      );
    }
    this.#total = this.#permits = permits;
    if (signal !== undefined) this.#watch = onAbort(signal, (reason) => this.#end(reason));
  }

  /** Permits free right now. */
  get available(): number {
    return this.#permits;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#queue?.length ?? 0;
  }

  /** The number of permits it was created with. */
  get totalPermits(): number {
    return this.#total;
  }

  /**
   * Runs `fn` holding a permit, waiting for one if none is free.
   *
   * @typeParam T The value `fn` produces.
   * @param fn Sync or async; the permit is given back when it settles.
   * @param priority Among waiters, higher goes first. @default 0
   * @returns What `fn` returns; rejects with what it throws, or with the
   * abort reason if the semaphore's signal aborts (or it is disposed) while waiting.
   * @throws {TypeError} (as a rejection) When `fn` is not a function or `priority` not a finite number.
   */
  async acquire<T>(fn: () => T | PromiseLike<T>, priority = 0): Promise<T> {
    assertFunction(WHAT, "fn", fn);
    if (typeof priority !== "number" || !Number.isFinite(priority)) {
      fail(WHAT, "priority", "a finite number", priority, false);
    }
    await this.#wait(priority, 1);
    try {
      return await fn();
    } finally {
      this.#release(1);
    }
  }

  /** The same as `acquire(fn)`. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    return this.acquire(fn);
  }

  /**
   * Takes a permit if one is free and nobody waits; give it back with
   * `release()`. False once the semaphore ended (aborted or disposed).
   */
  tryAcquire(): boolean {
    return this.tryBulkAcquire(1);
  }

  /**
   * Runs `fn` holding a permit if one is free at once.
   *
   * @returns What `fn` returns, or `undefined` (without calling it) when no permit was free.
   */
  async tryAcquireWithFn<T>(fn: () => T | PromiseLike<T>): Promise<T | undefined> {
    assertFunction(WHAT, "fn", fn);
    if (!this.tryBulkAcquire(1)) return undefined;
    try {
      return await fn();
    } finally {
      this.#release(1);
    }
  }

  /**
   * Waits up to `timeoutMs` for a permit; give it back with `release()`.
   *
   * @returns True with the permit; false when the time ran out or the
   * semaphore ended first (its timer is cleared either way).
   * @throws {TypeError | RangeError} (as a rejection) When `timeoutMs` is not a duration.
   */
  async acquireWithTimeout(timeoutMs: number): Promise<boolean> {
    assertMs(WHAT, "timeoutMs", timeoutMs, true);
    if (this.#ended) return false;
    if (this.#take(1)) return true;
    let waiter!: Waiter;
    const granted = new Promise<boolean>((resolve) => {
      waiter = {
        resolve: () => resolve(true),
        reject: () => resolve(false),
        priority: 0,
        count: 1,
      };
    });
    this.#enqueue(waiter);
    const timer = setTimeout(() => {
      if (this.#withdraw(waiter)) waiter.reject(undefined);
    }, Math.min(timeoutMs, MAX_TIMER));
    try {
      return await granted;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `fn` holding a permit if one comes within `timeoutMs`.
   *
   * @returns What `fn` returns, or `undefined` (without calling it) when none came in time.
   */
  async acquireWithTimeoutAndFn<T>(
    timeoutMs: number,
    fn: () => T | PromiseLike<T>,
  ): Promise<T | undefined> {
    assertFunction(WHAT, "fn", fn);
    if (!await this.acquireWithTimeout(timeoutMs)) return undefined;
    try {
      return await fn();
    } finally {
      this.#release(1);
    }
  }

  /**
   * Runs `fn` holding `count` permits, taken all at once when that many are
   * free (so two bulk holders never deadlock each other on partial sets).
   *
   * @throws {RangeError} (as a rejection) When `count` is not an integer from 1 to `totalPermits`.
   */
  async bulkAcquire<T>(count: number, fn: () => T | PromiseLike<T>): Promise<T> {
    this.#checkCount(count, true);
    assertFunction(WHAT, "fn", fn);
    await this.#wait(0, count);
    try {
      return await fn();
    } finally {
      this.#release(count);
    }
  }

  /**
   * Takes `count` permits if that many are free and nobody waits; give them
   * back with `release()` (once per permit, or `release(count)`).
   *
   * @returns False when they are not free, or `count` exceeds `totalPermits`.
   * @throws {RangeError} When `count` is not a positive integer.
   */
  tryBulkAcquire(count: number): boolean {
    if (!this.#checkCount(count, false) || this.#ended) return false;
    return this.#take(count);
  }

  /**
   * Gives back permits taken with `tryAcquire`, `acquireWithTimeout` or
   * `tryBulkAcquire` (the function-taking methods give theirs back themselves).
   *
   * @param count @default 1
   * @throws {RangeError} When more permits would be given back than are held.
   */
  release(count = 1): void {
    const held = this.#total - this.#permits;
    if (!Number.isInteger(count) || count < 1 || count > held) {
      fail(
        "Cannot release semaphore",
        "count",
        `an integer from 1 to the ${held} permits held`,
        count,
        true,
      );
    }
    this.#release(count);
  }

  /** Rejects every waiter (and every later `acquire`) with an `AbortError`; holders finish. Idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#end(new AbortError(DISPOSED_MESSAGE));
    return Promise.resolve();
  }

  /** go-go-scope's wording first ("count must be positive"); false when above the total. */
  #checkCount(count: number, beyondTotalThrows: boolean): boolean {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(
        `Cannot acquire semaphore permits: count must be positive (an integer >= 1), received ${
          describe(count)
        }`,
      );
    }
    if (count <= this.#total) return true;
    if (!beyondTotalThrows) return false;
    throw new RangeError(
      `Cannot acquire semaphore permits: count (${count}) exceeds the total permits (${this.#total})`,
    );
  }

  /** Takes `count` permits when they are free and nobody is ahead. */
  #take(count: number): boolean {
    if (this.#permits < count || (this.#queue !== undefined && this.#queue.length > 0)) {
      return false;
    }
    this.#permits -= count;
    return true;
  }

  #wait(priority: number, count: number): Promise<void> | undefined {
    if (this.#ended) return Promise.reject(this.#reason);
    if (this.#take(count)) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#enqueue({ resolve, reject, priority, count });
    });
  }

  #enqueue(waiter: Waiter): void {
    const queue = this.#queue ??= [];
    let i = queue.length;
    while (i > 0 && queue[i - 1]!.priority < waiter.priority) i--;
    queue.splice(i, 0, waiter);
  }

  /** Takes `waiter` out of the queue; false when it is no longer there. */
  #withdraw(waiter: Waiter): boolean {
    const queue = this.#queue;
    const i = queue === undefined ? -1 : queue.indexOf(waiter);
    if (i === -1) return false;
    queue!.splice(i, 1);
    this.#grant();
    return true;
  }

  #release(count: number): void {
    this.#permits += count;
    this.#grant();
  }

  /** Hands free permits to the waiters in order, as long as the first one's count is free. */
  #grant(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    while (queue.length > 0 && queue[0]!.count <= this.#permits) {
      const next = queue.shift()!;
      this.#permits -= next.count;
      next.resolve();
    }
  }

  #end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reasonToError(reason);
    this.#watch?.[Symbol.dispose]();
    this.#watch = undefined;
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue !== undefined) { for (const waiter of queue) waiter.reject(this.#reason); }
  }
}
