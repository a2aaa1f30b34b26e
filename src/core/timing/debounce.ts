/**
 * `scope.debounce(fn, options)`: calls `fn` once a burst of calls has been
 * quiet for `wait` ms.
 *
 * @module
 */
import { TimedCall } from "./_timed_call.ts";
import { assertFunction, assertKnownKeys, assertMs, fail } from "../base/_validate.ts";
import type { Result } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * Options of `scope.debounce()`; a number is the `wait`.
 *
 * @example
 * ```ts
 * import type { DebounceOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: DebounceOptions = { wait: 200, leading: true };
 * console.log(options.wait); // 200
 * ```
 */
export interface DebounceOptions {
  /** Quiet time in ms that ends a burst. @default 300 */
  wait?: number;
  /** Call at the first call of a burst. @default false */
  leading?: boolean;
  /** Call with the last arguments when the burst ends. @default true */
  trailing?: boolean;
}

const WHAT = "Cannot debounce";
const KNOWN = ["wait", "leading", "trailing"] as const;
const NOTHING: Promise<Result<Error, never>> = Promise.resolve([undefined, undefined as never]);

/** Reads `{ wait, leading, trailing }` (or a number of ms) with their defaults. */
export function edgeOptions(
  what: string,
  options: unknown,
  msKey: string,
  known: readonly string[],
  leadingDefault: boolean,
  trailingDefault: boolean,
): { ms: number; leading: boolean; trailing: boolean } {
  if (options === undefined) return { ms: 300, leading: leadingDefault, trailing: trailingDefault };
  if (typeof options === "number") {
    assertMs(what, msKey, options, true);
    return { ms: options, leading: leadingDefault, trailing: trailingDefault };
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail(what, "options", `a number of ms or { ${known.join(", ")} }`, options, false);
  }
  assertKnownKeys(what, options, known);
  const o = options as Record<string, unknown>;
  const ms = o[msKey] ?? 300;
  assertMs(what, msKey, ms, true);
  const leading = o.leading ?? leadingDefault;
  const trailing = o.trailing ?? trailingDefault;
  if (typeof leading !== "boolean") fail(what, "leading", "a boolean", leading, false);
  if (typeof trailing !== "boolean") fail(what, "trailing", "a boolean", trailing, false);
  return { ms, leading, trailing };
}

/**
 * Wraps `fn` so that a burst of calls runs it once. Every call returns a
 * promise of a Result: the calls of a burst share the Result of the call that
 * ran for them (the trailing call with the last arguments, or the leading
 * call). With `trailing: false`, calls after the leading one resolve
 * `[undefined, undefined]`. When the owner aborts, the pending timer is
 * cleared and waiting calls resolve `[abortReason, undefined]`, as do later
 * calls.
 *
 * @param owner The scope that ends it, or `undefined`.
 * @param fn The function to debounce; its failure becomes the Result's error.
 * @param options `{ wait, leading, trailing }` or the `wait` in ms.
 * @returns The debounced function.
 * @throws {TypeError | RangeError} When `fn` or an option is invalid.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const save = s.debounce(async (text: string) => text.toUpperCase(), 10);
 * save("h");
 * save("he");
 * const [err, saved] = await save("hello");
 * console.log(err, saved); // undefined HELLO
 * ```
 */
export function debounce<T, Args extends unknown[]>(
  owner: ScopeLike | undefined,
  fn: (...args: Args) => T | PromiseLike<T>,
  options?: DebounceOptions | number,
): (...args: Args) => Promise<Result<Error, Awaited<T>>> {
  assertFunction(WHAT, "fn", fn);
  const { ms, leading, trailing } = edgeOptions(WHAT, options, "wait", KNOWN, false, true);
  let last: Promise<Result<Error, Awaited<T>>> | undefined;
  const call: TimedCall<Args, Awaited<T>> = new TimedCall(owner, fn as never, () => {
    if (trailing) call.fireTrailing();
  });
  return (...args: Args): Promise<Result<Error, Awaited<T>>> => {
    const dead = call.dead;
    if (dead !== undefined) return Promise.resolve([dead, undefined]);
    const burstStart = !call.pending;
    call.schedule(ms);
    if (leading && burstStart) return last = call.invoke(args);
    if (trailing) return call.waitTrailing(args);
    return last ?? NOTHING;
  };
}
