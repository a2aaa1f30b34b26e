/**
 * `scope.parallel()`: several tasks of one scope, all of whose values are
 * needed. (`race()` and `any()` are in `race.ts`.)
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { AbortError, reasonToError } from "../base/errors.ts";
import type { Task } from "./task.ts";
import type { Result } from "../base/types.ts";
import {
  checkFactories,
  checkSignal,
  deadline,
  type Factory,
  type GroupOwner,
  settleAll,
} from "./_group.ts";
import { assertInteger, assertKnownKeys, assertMs, assertObject, fail } from "../base/_validate.ts";

export type { Factory } from "./_group.ts";
export type { RaceOptions } from "./race.ts";

/** The success values of `parallel(factories)`, typed per position. */
export type Values<F extends readonly Factory[]> = {
  -readonly [K in keyof F]: Awaited<ReturnType<F[K]>>;
};

/**
 * Options of `scope.parallel()` and the standalone `parallel()`.
 *
 * @example
 * ```ts
 * import { type ParallelOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ParallelOptions = { concurrency: 2 };
 * await using s = scope();
 * const [err, values] = await s.parallel([() => 1, () => "two"], options);
 * console.log(err, values); // undefined [ 1, "two" ]
 * ```
 */
export interface ParallelOptions {
  /** At most this many factories run at once. @default all at once */
  concurrency?: number;
  /** Never fail: each slot of the values holds that factory's own Result. @default false */
  continueOnError?: boolean;
  /** A deadline in ms for the whole group: at expiry it fails with a `TimeoutError`. */
  timeout?: number;
  /** Aborting it fails the group with its reason and cancels the factories still running. */
  signal?: AbortSignal;
}

const KNOWN = ["concurrency", "continueOnError", "timeout", "signal"] as const;

function checkOptions(what: string, options: ParallelOptions | undefined): void {
  if (options === undefined) return;
  assertObject(what, "options", options);
  assertKnownKeys(what, options, KNOWN);
  const { timeout, concurrency, continueOnError, signal } = options;
  if (timeout !== undefined) assertMs(what, "timeout", timeout);
  if (concurrency !== undefined) assertInteger(what, "concurrency", concurrency, 1);
  if (continueOnError !== undefined && typeof continueOnError !== "boolean") {
    fail(what, "continueOnError", "a boolean", continueOnError, false);
  }
  checkSignal(what, signal);
}

/** `scope.parallel()` (internal: see `Scope.parallel`). */
export function parallel(
  owner: GroupOwner,
  factories: readonly Factory[],
  options?: ParallelOptions,
): Promise<Result<Error, unknown[]>> {
  const what = "Cannot run parallel";
  checkFactories(what, factories);
  checkOptions(what, options);
  return runParallel(owner, factories, options);
}

async function runParallel(
  owner: GroupOwner,
  factories: readonly Factory[],
  options: ParallelOptions | undefined,
): Promise<Result<Error, unknown[]>> {
  const limit = options?.concurrency ?? Infinity;
  const continueOnError = options?.continueOnError === true;
  const signal = options?.signal;
  const n = factories.length;
  const values: unknown[] = new Array(n);
  const started: Task<unknown>[] = [];
  const timer = deadline("parallel", options?.timeout);
  let watch: Disposable | undefined;
  let next = 0;
  let done = 0;
  let stopped = false;

  const outcome = await new Promise<Error | undefined>((resolve) => {
    const stop = (error: Error | undefined): void => {
      stopped = true;
      resolve(error);
    };
    if (signal !== undefined) watch = onAbort(signal, (reason) => stop(reasonToError(reason)));
    if (stopped) return;
    if (n === 0) return stop(undefined);
    timer?.promise.then(stop);
    const launch = (): void => {
      while (!stopped && next < n && next - done < limit) {
        const i = next++;
        const t = owner.task(factories[i]!);
        started.push(t as Task<unknown>);
        t.then((result) => {
          done++;
          if (continueOnError) values[i] = result;
          else if (result[0] !== undefined) return stop(result[0]);
          else values[i] = result[1];
          if (done === n) stop(undefined);
          else launch();
        });
      }
    };
    launch();
  });
  timer?.clear();
  watch?.[Symbol.dispose]();
  if (outcome !== undefined) {
    await settleAll(
      started,
      new AbortError("Cancelled: a sibling in parallel() failed", undefined, { cause: outcome }),
    );
    return [outcome, undefined];
  }
  return [undefined, values];
}
