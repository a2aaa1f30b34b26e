/**
 * Small helpers for `AbortSignal`s: run a callback once on abort, or turn an
 * abort into a promise.
 *
 * @module
 */
import { assertFunction, describe, typeError } from "./_validate.ts";

function assertSignal(what: string, signal: unknown): asserts signal is AbortSignal {
  if (!(signal instanceof AbortSignal)) {
    throw typeError(`${what}: "signal" must be an AbortSignal, received ${describe(signal)}`);
  }
}

const NOTHING: Disposable = Object.freeze({ [Symbol.dispose](): void {} });

class AbortCallback implements Disposable {
  #signal: AbortSignal | undefined;
  readonly #callback: (reason: unknown) => void;
  constructor(signal: AbortSignal, callback: (reason: unknown) => void) {
    this.#signal = signal;
    this.#callback = callback;
    signal.addEventListener("abort", this);
  }
  /** @internal The signal aborted. */
  handleEvent(): void {
    const signal = this.#signal;
    if (signal === undefined) return;
    this.#signal = undefined;
    signal.removeEventListener("abort", this);
    this.#callback(signal.reason);
  }
  [Symbol.dispose](): void {
    this.#signal?.removeEventListener("abort", this);
    this.#signal = undefined;
  }
}

/**
 * Calls `callback(signal.reason)` once when `signal` aborts, or at once if it
 * already has. Disposing the returned object (with `using`, or by calling
 * `[Symbol.dispose]()`) removes the listener; after the call it does nothing.
 *
 * @param signal The signal to watch.
 * @param callback Called with the abort reason, at most once.
 * @returns A Disposable that removes the listener.
 * @throws {TypeError} When `signal` is not an AbortSignal or `callback` not a function.
 *
 * @example
 * ```ts
 * import { onAbort } from "@go-go-scope/adapter-fastify/core";
 *
 * const controller = new AbortController();
 * {
 *   using _ = onAbort(controller.signal, (reason) => console.log("aborted:", reason));
 *   controller.abort("stop"); // aborted: stop
 * }
 * ```
 */
export function onAbort(signal: AbortSignal, callback: (reason: unknown) => void): Disposable {
  assertSignal("Cannot watch signal", signal);
  assertFunction("Cannot watch signal", "callback", callback);
  if (signal.aborted) {
    callback(signal.reason);
    return NOTHING;
  }
  return new AbortCallback(signal, callback);
}

/**
 * A promise that rejects with `signal.reason` when `signal` aborts (at once
 * if it already has) and never resolves; handy in `Promise.race`. Its
 * listener stays on the signal until the signal aborts: for a short-lived
 * race on a long-lived signal, prefer {@linkcode onAbort}, which can be
 * disposed.
 *
 * @param signal The signal to watch.
 * @returns A promise rejected with the abort reason.
 * @throws {TypeError} When `signal` is not an AbortSignal.
 *
 * @example
 * ```ts
 * import { abortPromise } from "@go-go-scope/adapter-fastify/core";
 *
 * const controller = new AbortController();
 * const work = new Promise((resolve) => setTimeout(resolve, 10, "done"));
 * controller.abort(new Error("cancelled"));
 * try {
 *   await Promise.race([work, abortPromise(controller.signal)]);
 * } catch (err) {
 *   console.log((err as Error).message); // cancelled
 * }
 * await work;
 * ```
 */
export function abortPromise(signal: AbortSignal): Promise<never> {
  assertSignal("Cannot wait for abort", signal);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<never>((_resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * A promise that resolves with `signal.reason` when `signal` aborts (at once
 * if it already has). Like {@linkcode abortPromise}, its listener stays until
 * the signal aborts.
 *
 * @param signal The signal to wait for.
 * @returns A promise of the abort reason.
 * @throws {TypeError} When `signal` is not an AbortSignal.
 *
 * @example
 * ```ts
 * import { scope, whenAborted } from "@go-go-scope/adapter-fastify/core";
 *
 * const s = scope();
 * const reason = whenAborted(s.signal);
 * s.cancel("shutting down");
 * console.log(await reason); // shutting down
 * await s[Symbol.asyncDispose]();
 * ```
 */
export function whenAborted(signal: AbortSignal): Promise<unknown> {
  assertSignal("Cannot wait for abort", signal);
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise<unknown>((resolve) => {
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}
