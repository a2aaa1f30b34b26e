/**
 * `AsyncDisposableResource`: one acquisition, one disposal, for `await using`.
 *
 * @module
 */
import { assertFunction } from "../base/_validate.ts";

const WHAT = "Cannot create resource";

/**
 * Wraps a resource that is acquired once and disposed once. `acquire()`
 * creates it (a second call rejects); disposing it (idempotent) waits for an
 * acquisition in flight and then calls `dispose(value)`, if the acquisition
 * succeeded. Before `acquire()` nothing is created, and disposing does nothing.
 *
 * @typeParam T The resource.
 *
 * @example
 * ```ts
 * import { AsyncDisposableResource } from "@go-go-scope/adapter-fastify/core";
 *
 * const log: string[] = [];
 * {
 *   await using conn = new AsyncDisposableResource(
 *     async () => ({ query: (q: string) => `rows for ${q}` }),
 *     () => void log.push("closed"),
 *   );
 *   const db = await conn.acquire();
 *   console.log(db.query("users")); // rows for users
 * }
 * console.log(log); // [ "closed" ]
 * ```
 */
export class AsyncDisposableResource<T> implements AsyncDisposable {
  readonly #acquire: () => T | PromiseLike<T>;
  readonly #dispose: (value: T) => unknown;
  #acquisition: Promise<T> | undefined;
  #value: T | undefined;
  #disposal: Promise<void> | undefined;

  /**
   * Wraps a resource that `acquire()` creates and disposal releases.
   *
   * @param acquire Creates the resource; called by the first `acquire()`.
   * @param dispose Releases it; called once, on disposal, if `acquire` succeeded.
   * @throws {TypeError} When either is not a function.
   */
  constructor(acquire: () => T | PromiseLike<T>, dispose: (value: T) => unknown) {
    assertFunction(WHAT, "acquire", acquire);
    assertFunction(WHAT, "dispose", dispose);
    this.#acquire = acquire;
    this.#dispose = dispose;
  }

  /** The acquired value; `undefined` before `acquire()` resolved and after disposal. */
  get value(): T | undefined {
    return this.#value;
  }

  /** True once `acquire()` was called. */
  get isAcquired(): boolean {
    return this.#acquisition !== undefined;
  }

  /** True once disposal has begun. */
  get isDisposed(): boolean {
    return this.#disposal !== undefined;
  }

  /**
   * Acquires the resource: calls `acquire` and resolves with its value.
   *
   * @returns The value.
   * @throws {Error} (as a rejection) When called a second time, or after disposal.
   */
  acquire(): Promise<T> {
    if (this.#disposal !== undefined) {
      return Promise.reject(new Error("Resource already disposed: it cannot be acquired again"));
    }
    if (this.#acquisition !== undefined) {
      return Promise.reject(new Error("Resource already acquired: acquire() is one-shot"));
    }
    return this.#acquisition = (async () => {
      const value = await this.#acquire();
      if (this.#disposal === undefined) this.#value = value;
      return value;
    })();
  }

  /** Disposes the acquired value (once; later calls return the same promise). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#disposal ??= this.#run();
  }

  async #run(): Promise<void> {
    const acquisition = this.#acquisition;
    if (acquisition === undefined) return;
    let value: T;
    try {
      value = await acquisition;
    } catch {
      return; // the acquisition's failure went to whoever called acquire()
    }
    this.#value = undefined;
    await this.#dispose(value);
  }
}
