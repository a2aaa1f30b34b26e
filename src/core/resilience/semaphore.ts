/**
 * `Semaphore`: at most `n` holders at once; the others wait, highest
 * priority first.
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { AbortError, reasonToError } from "../base/errors.ts";
import { assertFunction, assertInteger, describe, fail, typeError } from "../base/_validate.ts";

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  priority: number;
}

const DISPOSED_MESSAGE = "Semaphore disposed";

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
    assertFunction("Cannot acquire semaphore", "fn", fn);
    if (typeof priority !== "number" || !Number.isFinite(priority)) {
      fail("Cannot acquire semaphore", "priority", "a finite number", priority, false);
    }
    await this.#wait(priority);
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** The same as `acquire(fn)`. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    return this.acquire(fn);
  }

  /** Rejects every waiter (and every later `acquire`) with an `AbortError`; holders finish. Idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#end(new AbortError(DISPOSED_MESSAGE));
    return Promise.resolve();
  }

  #wait(priority: number): Promise<void> | undefined {
    if (this.#ended) return Promise.reject(this.#reason);
    if (this.#permits > 0) {
      this.#permits--;
      return undefined;
    }
    const queue = this.#queue ??= [];
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, priority };
      let i = queue.length;
      while (i > 0 && queue[i - 1]!.priority < priority) i--;
      queue.splice(i, 0, waiter);
    });
  }

  #release(): void {
    const next = this.#queue?.shift();
    if (next !== undefined) next.resolve();
    else this.#permits++;
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
