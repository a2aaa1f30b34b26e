/**
 * `parallel()` and `race()` without a scope: each call runs its factories in
 * a scope of its own, disposed before it resolves, so nothing outlives it.
 *
 * @module
 */
import {
  type Factory,
  parallel as parallelIn,
  type ParallelOptions,
  type Values,
} from "./kernel/parallel.ts";
import { raceIn, type RaceOptions } from "./kernel/race.ts";
import { Scope } from "./scope.ts";
import type { Result, TaskFn } from "./base/types.ts";

/** Runs `run` in a new scope, disposed once it settles; bad input still throws synchronously. */
function inOwnScope<R>(run: (s: Scope) => Promise<R>): Promise<R> {
  const s = new Scope();
  let pending: Promise<R>;
  try {
    pending = run(s);
  } catch (error) {
    void s[Symbol.asyncDispose]();
    throw error;
  }
  return pending.finally(() => s[Symbol.asyncDispose]());
}

/**
 * Runs factories at once (or `concurrency` at a time) and never fails: each
 * slot of the values holds that factory's own Result.
 *
 * @param factories Task functions; each gets `{ signal, context, logger }`.
 * @param options `continueOnError: true`, and optionally `concurrency`, `timeout`, `signal`.
 */
export function parallel<const F extends readonly TaskFn<unknown>[]>(
  factories: F,
  options: ParallelOptions & { continueOnError: true },
): Promise<Result<Error, { -readonly [K in keyof F]: Result<Error, Awaited<ReturnType<F[K]>>> }>>;
/**
 * Runs factories at once (or `concurrency` at a time) in a scope of their
 * own. Resolves `[undefined, values]` in input order, or fails fast with the
 * first error (or the `signal`'s reason, or a `TimeoutError`) after
 * cancelling the factories still running. The same as `scope.parallel()`,
 * without a scope.
 *
 * @param factories Task functions; each gets `{ signal, context, logger }`.
 * @param options `concurrency`, `continueOnError`, `timeout`, `signal`.
 * @returns `[error, undefined]` or `[undefined, values]`, values typed per position.
 * @throws {TypeError | RangeError} When `factories` or an option is invalid.
 *
 * @example
 * ```ts
 * import { parallel } from "@go-go-scope/adapter-fastify/core";
 *
 * const [err, values] = await parallel([() => 1, async () => "two"]);
 * if (!err) console.log(values); // [ 1, "two" ]
 * ```
 */
export function parallel<const F extends readonly TaskFn<unknown>[]>(
  factories: F,
  options?: ParallelOptions,
): Promise<Result<Error, Values<F>>>;
export function parallel(
  factories: readonly Factory[],
  options?: ParallelOptions,
): Promise<Result<Error, unknown[]>> {
  return inOwnScope((s) => parallelIn(s, factories, options));
}

/**
 * Runs factories in a scope of their own; the first to settle decides (with
 * `requireSuccess`, the first to succeed) and the others are cancelled. The
 * same as `scope.race()`, without a scope.
 *
 * @typeParam T The value the factories produce.
 * @param factories Task functions; each gets `{ signal, context, logger }`.
 * @param options `timeout`, `signal`, `requireSuccess`, `staggerDelay`, `staggerMaxConcurrent`.
 * @returns The deciding Result.
 * @throws {TypeError | RangeError} When `factories` or an option is invalid.
 *
 * @example
 * ```ts
 * import { race } from "@go-go-scope/adapter-fastify/core";
 *
 * // Hedging: ask the primary; if it has not answered in 20 ms, ask the replica too.
 * const [err, answer] = await race([
 *   ({ signal }) => new Promise<string>((resolve) => {
 *     const t = setTimeout(resolve, 200, "primary");
 *     signal.addEventListener("abort", () => clearTimeout(t));
 *   }),
 *   () => "replica",
 * ], { staggerDelay: 20 });
 * console.log(err, answer); // undefined replica
 * ```
 */
export function race<T>(
  factories: readonly TaskFn<T>[],
  options?: RaceOptions,
): Promise<Result<Error, T>> {
  return inOwnScope((s) => raceIn(s, factories, options));
}
