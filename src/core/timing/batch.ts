/**
 * `scope.batch(options)`: collects items and processes them in groups, when
 * `size` items are waiting or `timeout` ms after the first one.
 *
 * @module
 */
import { ABORT, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
} from "../base/_validate.ts";
import type { Result } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * Options of `scope.batch()`.
 *
 * @example
 * ```ts
 * import type { BatchOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: BatchOptions<number, number> = {
 *   size: 50,
 *   timeout: 100,
 *   process: async (items) => items.length,
 * };
 * console.log(options.size); // 50
 * ```
 */
export interface BatchOptions<T, R> {
  /** Flush when this many items wait (an integer >= 1). @default 100 */
  size?: number;
  /** Flush this many ms after the first item of a batch. @default 1000 */
  timeout?: number;
  /** Processes one batch; runs as a task of the scope. */
  process: (items: T[]) => R | PromiseLike<R>;
}

const WHAT = "Cannot create batch";
const KNOWN = ["size", "timeout", "process"] as const;

/**
 * A batcher owned by a scope. When the scope aborts or is disposed the batch
 * stops: its timer is cleared and items not yet flushed are dropped (call
 * {@linkcode Batch.stop} before disposal to process them).
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const batcher = s.batch({ size: 3, process: async (ids: number[]) => ids.join(",") });
 * await batcher.add(1);
 * await batcher.add(2);
 * console.log(await batcher.add(3)); // [ undefined, "1,2,3" ] (the size flush)
 * await batcher.add(4);
 * console.log(await batcher.stop()); // [ undefined, "4" ]
 * ```
 */
export class Batch<T, R> {
  readonly #owner: ScopeLike;
  readonly #size: number;
  readonly #timeout: number;
  readonly #process: (items: T[]) => R | PromiseLike<R>;
  #items: T[] = [];
  #timer: Timer | undefined;
  #pending: Promise<Result<Error, Awaited<R>>> | undefined;
  #stopped = false;

  /** @internal Use `scope.batch()`. */
  constructor(owner: ScopeLike, options: BatchOptions<T, R>) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { size, timeout, process } = options;
    if (size !== undefined) assertInteger(WHAT, "size", size, 1);
    if (timeout !== undefined) assertMs(WHAT, "timeout", timeout);
    assertFunction(WHAT, "process", process);
    this.#owner = owner;
    this.#size = size ?? 100;
    this.#timeout = timeout ?? 1000;
    this.#process = process;
    if (owner.isAborted) this.#stopped = true;
    else owner[ATTACH](this);
  }

  /** Items waiting for the next flush. */
  get size(): number {
    return this.#items.length;
  }

  /** True once stopped (by `stop()` or by the scope aborting). */
  get isStopped(): boolean {
    return this.#stopped;
  }

  /**
   * Adds an item.
   *
   * @returns The flush's Result when this item filled the batch, otherwise
   * `undefined`; `[Error("Batch is stopped"), undefined]` once stopped.
   */
  add(item: T): Promise<Result<Error, Awaited<R>> | undefined> {
    if (this.#stopped) return Promise.resolve([new Error("Batch is stopped"), undefined]);
    this.#items.push(item);
    if (this.#items.length >= this.#size) return this.flush();
    this.#timer ??= setTimeout(() => this.#onTimer(), this.#timeout);
    return Promise.resolve(undefined);
  }

  /** Adds items one by one; returns the Results of the flushes they caused. */
  async addMany(items: T[]): Promise<Result<Error, Awaited<R>>[]> {
    if (this.#stopped) return [[new Error("Batch is stopped"), undefined]];
    const results: Result<Error, Awaited<R>>[] = [];
    for (const item of items) {
      const result = await this.add(item);
      if (result !== undefined) results.push(result);
    }
    return results;
  }

  /**
   * Processes the waiting items now. While a flush runs, returns that flush.
   *
   * @returns The Result of `process`, or `[Error("Batch is empty"), undefined]`.
   */
  flush(): Promise<Result<Error, Awaited<R>>> {
    if (this.#pending !== undefined) return this.#pending;
    if (this.#items.length === 0) return Promise.resolve([new Error("Batch is empty"), undefined]);
    this.#clearTimer();
    const items = this.#items;
    this.#items = [];
    const process = this.#process;
    const pending = this.#owner.task(() => process(items)).then((result) => {
      this.#pending = undefined;
      return result as Result<Error, Awaited<R>>;
    });
    return this.#pending = pending;
  }

  /**
   * Stops the batch and flushes what is waiting.
   *
   * @returns The last flush's Result, or `undefined` when nothing was waiting.
   */
  stop(): Promise<Result<Error, Awaited<R>> | undefined> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#clearTimer();
      this.#owner[DETACH](this);
      if (this.#items.length > 0) return this.flush();
    }
    return this.#pending ?? Promise.resolve(undefined);
  }

  /** @internal The scope aborted: stop, clear the timer, drop waiting items. */
  [ABORT](): void {
    this.#stopped = true;
    this.#clearTimer();
    this.#owner[DETACH](this);
    this.#items = [];
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#items.length === 0) return;
    // Nobody awaits a timed flush: its failure goes to the scope's logger.
    this.flush().then(([err]) => {
      if (err !== undefined) {
        this.#owner.logger.error({ err, scope: this.#owner.name }, "batch process failed");
      }
    });
  }
}

/** Creates a {@linkcode Batch} owned by `owner`. Used by `scope.batch(options)`. */
export function batch<T, R>(owner: ScopeLike, options: BatchOptions<T, R>): Batch<T, R> {
  return new Batch(owner, options);
}
