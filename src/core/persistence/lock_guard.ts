/**
 * `LockGuard`: one hold of a lock, released by `release()` or at the end of an
 * `await using` block; and the statistics of a local lock.
 *
 * @module
 */
import { ABORT } from "../base/_symbols.ts";

/** The lock statistics of a local lock. */
export interface LockStats {
  /** Readers holding it. */
  readerCount: number;
  /** Whether a writer holds it. */
  writerActive: boolean;
  /** Whether an exclusive holder holds it. */
  exclusiveActive: boolean;
  /** Requests waiting. */
  pendingRequests: number;
}

/**
 * Holds a lock until released. `await using guard = await lock.acquire()`
 * releases it at the end of the block.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const lock = s.acquireLock();
 * const guard = await lock.acquire();
 * console.log(lock.isLocked); // true
 * await guard.release();
 * console.log(lock.isLocked); // false
 * ```
 */
export class LockGuard implements Disposable, AsyncDisposable {
  #release: (() => Promise<void> | void) | undefined;
  readonly #type: "read" | "write" | "exclusive";

  /** @internal */
  constructor(release: () => Promise<void> | void, type: "read" | "write" | "exclusive") {
    this.#release = release;
    this.#type = type;
  }

  /** Whether `release()` was called (or the lock's scope released it). */
  get released(): boolean {
    return this.#release === undefined;
  }

  /**
   * Releases the lock.
   *
   * @throws {Error} When already released.
   */
  async release(): Promise<void> {
    const release = this.#release;
    if (release === undefined) throw new Error(`${this.#type} lock already released`);
    this.#release = undefined;
    await release();
  }

  /** Releases the lock if still held (a keyed lock's release is not awaited). */
  [Symbol.dispose](): void {
    const release = this.#release;
    this.#release = undefined;
    void release?.();
  }

  /** Releases the lock if still held. */
  async [Symbol.asyncDispose](): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    await release?.();
  }

  /** @internal The lock's scope aborted: forget the release. */
  [ABORT](): void {
    this.#release = undefined;
  }
}
