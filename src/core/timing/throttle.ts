/**
 * `scope.throttle(fn, options)`: calls `fn` at most once per `interval` ms.
 *
 * @module
 */
import { TimedCall } from "./_timed_call.ts";
import { edgeOptions } from "./debounce.ts";
import { assertFunction } from "../base/_validate.ts";
import type { Result } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * Options of `scope.throttle()`; a number is the `interval`.
 *
 * @example
 * ```ts
 * import type { ThrottleOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ThrottleOptions = { interval: 1000, trailing: true };
 * console.log(options.interval); // 1000
 * ```
 */
export interface ThrottleOptions {
  /** At most one call per this many ms. @default 300 */
  interval?: number;
  /** Call at once when the interval has passed. @default true */
  leading?: boolean;
  /** Call once more with the last arguments at the end of the interval. @default false */
  trailing?: boolean;
}

const WHAT = "Cannot throttle";
const KNOWN = ["interval", "leading", "trailing"] as const;
const NOTHING: Promise<Result<Error, never>> = Promise.resolve([undefined, undefined as never]);

/**
 * Wraps `fn` so that it runs at most once per `interval`. A call that runs
 * `fn` (leading) gets its Result; calls inside the interval share the trailing
 * call's Result when `trailing` is on, and otherwise resolve
 * `[undefined, undefined]` without running `fn`. When the owner aborts, the
 * timer is cleared and waiting calls resolve `[abortReason, undefined]`, as do
 * later calls.
 *
 * @param owner The scope that ends it, or `undefined`.
 * @param fn The function to throttle; its failure becomes the Result's error.
 * @param options `{ interval, leading, trailing }` or the `interval` in ms.
 * @returns The throttled function.
 * @throws {TypeError | RangeError} When `fn` or an option is invalid.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * let runs = 0;
 * const ping = s.throttle(() => ++runs, { interval: 1000 });
 * console.log(await ping()); // [ undefined, 1 ]
 * console.log(await ping()); // [ undefined, undefined ] (throttled)
 * ```
 */
export function throttle<T, Args extends unknown[]>(
  owner: ScopeLike | undefined,
  fn: (...args: Args) => T | PromiseLike<T>,
  options?: ThrottleOptions | number,
): (...args: Args) => Promise<Result<Error, Awaited<T>>> {
  assertFunction(WHAT, "fn", fn);
  const { ms, leading, trailing } = edgeOptions(WHAT, options, "interval", KNOWN, true, false);
  let lastRun = -Infinity;
  const call: TimedCall<Args, Awaited<T>> = new TimedCall(owner, fn as never, () => {
    if (call.fireTrailing()) lastRun = performance.now();
  });
  return (...args: Args): Promise<Result<Error, Awaited<T>>> => {
    const dead = call.dead;
    if (dead !== undefined) return Promise.resolve([dead, undefined]);
    const now = performance.now();
    const since = now - lastRun;
    if (since >= ms && !call.pending) {
      if (leading) {
        lastRun = now;
        return call.invoke(args);
      }
      if (!trailing) return NOTHING;
      call.schedule(ms);
      return call.waitTrailing(args);
    }
    if (!trailing) return NOTHING;
    if (!call.pending) call.schedule(Math.max(0, ms - since));
    return call.waitTrailing(args);
  };
}
