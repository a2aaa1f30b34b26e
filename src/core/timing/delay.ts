/**
 * `scope.delay(ms)`: a sleep that ends early when its scope aborts.
 *
 * @module
 */
import { reasonToError } from "../base/errors.ts";
import { ABORT, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import { assertMs } from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * One pending sleep. It is attached to its scope only while its timer runs,
 * so a finished delay leaves nothing behind.
 */
class Sleep {
  readonly #owner: ScopeLike | undefined;
  readonly #resolve: () => void;
  readonly #reject: (error: Error) => void;
  readonly #timer: Timer;

  constructor(
    owner: ScopeLike | undefined,
    ms: number,
    resolve: () => void,
    reject: (error: Error) => void,
  ) {
    this.#owner = owner;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timer = setTimeout(() => {
      this.#owner?.[DETACH](this);
      this.#resolve();
    }, ms);
    owner?.[ATTACH](this);
  }

  /** @internal The scope aborted: stop the timer and reject. */
  [ABORT](reason: unknown): void {
    clearTimeout(this.#timer);
    this.#owner?.[DETACH](this);
    this.#reject(reasonToError(reason));
  }
}

/**
 * Waits `ms` milliseconds. With a scope, rejects at once with the scope's
 * abort reason (an `AbortError` such as "Scope disposed", or the error it was
 * cancelled with) when the scope aborts or is already aborted, and its timer
 * is cleared. Used by `scope.delay(ms)`.
 *
 * @param owner The scope whose abort ends the wait, or `undefined` for a plain sleep.
 * @param ms Milliseconds, a finite number >= 0.
 * @returns A promise that resolves after `ms`.
 * @throws {TypeError | RangeError} When `ms` is not a finite number >= 0.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * await s.delay(5);
 * s.cancel(new Error("stop"));
 * const err = await s.delay(1000).catch((e) => e);
 * console.log(err.message); // stop
 * ```
 */
export function delay(owner: ScopeLike | undefined, ms: number): Promise<void> {
  assertMs("Cannot delay", "ms", ms, true);
  if (owner?.isAborted) return Promise.reject(reasonToError(owner.abortReason));
  return new Promise<void>((resolve, reject) => {
    new Sleep(owner, ms, resolve, reject);
  });
}
