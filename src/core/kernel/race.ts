/**
 * `scope.race()` and `scope.any()`: several tasks of one scope, the first to
 * settle (or, for `any` and `requireSuccess`, to succeed) decides and the
 * others are cancelled. Optionally staggered ("happy eyeballs" hedging).
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { AbortError, reasonToError } from "../base/errors.ts";
import type { Task } from "./task.ts";
import type { Result, TaskFn } from "../base/types.ts";
import type { Timer } from "../base/_symbols.ts";
import { checkFactories, checkSignal, deadline, type GroupOwner, settleAll } from "./_group.ts";
import { assertInteger, assertKnownKeys, assertMs, assertObject, fail } from "../base/_validate.ts";

/**
 * Options of `scope.race()`, `scope.any()` and the standalone `race()`.
 *
 * @example
 * ```ts
 * import { type RaceOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: RaceOptions = { timeout: 1000, staggerDelay: 50 };
 * await using s = scope();
 * const [, winner] = await s.race([() => "fast", () => new Promise<string>(() => {})], options);
 * console.log(winner); // fast
 * ```
 */
export interface RaceOptions {
  /** A deadline in ms: at expiry the group fails with a `TimeoutError`. */
  timeout?: number;
  /** Aborting it fails the group with its reason and cancels every factory still running. */
  signal?: AbortSignal;
  /**
   * Only a success decides; failures keep the race going, and if every
   * factory fails the error is an `AggregateError` of all of them.
   * (`any()` always works this way.) @default false
   */
  requireSuccess?: boolean;
  /**
   * Hedging: start the first factory at once and each next one `staggerDelay`
   * ms later while nothing has decided yet (with `requireSuccess`, a failure
   * also starts the next one at once). Factories never started are never
   * called. @default every factory starts at once
   */
  staggerDelay?: number;
  /** With `staggerDelay`, at most this many factories run at once (ignored without it). @default no limit */
  staggerMaxConcurrent?: number;
  /**
   * Without `staggerDelay`: start only this many factories; with
   * `requireSuccess` (or in `any`), each failure starts the next. @default all at once
   */
  concurrency?: number;
}

const KNOWN = [
  "timeout",
  "signal",
  "requireSuccess",
  "staggerDelay",
  "staggerMaxConcurrent",
  "concurrency",
] as const;

function checkOptions(what: string, options: RaceOptions | undefined): void {
  if (options === undefined) return;
  assertObject(what, "options", options);
  assertKnownKeys(what, options, KNOWN);
  const { timeout, signal, requireSuccess, staggerDelay, staggerMaxConcurrent, concurrency } =
    options;
  if (timeout !== undefined) assertMs(what, "timeout", timeout);
  checkSignal(what, signal);
  if (requireSuccess !== undefined && typeof requireSuccess !== "boolean") {
    fail(what, "requireSuccess", "a boolean", requireSuccess, false);
  }
  if (staggerDelay !== undefined) assertMs(what, "staggerDelay", staggerDelay, true);
  if (staggerMaxConcurrent !== undefined) {
    assertInteger(what, "staggerMaxConcurrent", staggerMaxConcurrent, 1);
  }
  if (concurrency !== undefined) assertInteger(what, "concurrency", concurrency, 1);
}

function first<T>(
  name: "race" | "any",
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options: RaceOptions | undefined,
): Promise<Result<Error, T>> {
  const what = `Cannot run ${name}`;
  checkFactories(what, factories);
  checkOptions(what, options);
  if (factories.length === 0) {
    return Promise.resolve([
      new RangeError(`${what}: "factories" is empty; give at least one function`),
      undefined,
    ]);
  }
  return runFirst(name, owner, factories, options);
}

async function runFirst<T>(
  name: "race" | "any",
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options: RaceOptions | undefined,
): Promise<Result<Error, T>> {
  const requireSuccess = name === "any" || options?.requireSuccess === true;
  const stagger = options?.staggerDelay;
  const maxRunning = options?.staggerMaxConcurrent ?? Infinity;
  const signal = options?.signal;
  const n = factories.length;
  const tasks: Task<T>[] = [];
  const errors: Error[] = new Array(n);
  const timer = deadline(name, options?.timeout);
  let watch: Disposable | undefined;
  let staggerTimer: Timer | undefined;
  let next = 0;
  let running = 0;
  let failed = 0;
  let decided = false;

  const result = await new Promise<Result<Error, T>>((resolve) => {
    const decide = (r: Result<Error, T>): void => {
      decided = true;
      resolve(r);
    };
    const launch = (): void => {
      const i = next++;
      running++;
      const t = owner.task(factories[i]!);
      tasks.push(t);
      t.then((r) => {
        running--;
        if (decided) return;
        if (!requireSuccess || r[0] === undefined) return decide(r);
        errors[i] = r[0];
        if (++failed === n) {
          return decide([new AggregateError(errors, `${name}: every task failed`), undefined]);
        }
        if (next >= n) return;
        if (stagger === undefined) return launch();
        // A failure need not wait for the stagger: the next one starts now.
        if (staggerTimer !== undefined) clearTimeout(staggerTimer);
        staggerTimer = undefined;
        launchStaggered();
      });
    };
    const tick = (): void => {
      staggerTimer = undefined;
      if (!decided && running < maxRunning) launchStaggered();
    };
    const launchStaggered = (): void => {
      launch();
      if (next < n) staggerTimer = setTimeout(tick, stagger);
    };
    if (signal !== undefined) {
      watch = onAbort(signal, (reason) => decide([reasonToError(reason), undefined]));
    }
    if (decided) return;
    timer?.promise.then((e) => decide([e, undefined]));
    if (stagger !== undefined) launchStaggered();
    else {
      const first = Math.min(n, options?.concurrency ?? n);
      while (next < first) launch();
    }
  });
  timer?.clear();
  watch?.[Symbol.dispose]();
  if (staggerTimer !== undefined) clearTimeout(staggerTimer);
  await settleAll(tasks as Task<unknown>[], new AbortError(`Cancelled: ${name}() was decided`));
  return result;
}

/** `scope.race()` (internal: see `Scope.race`). */
export function raceIn<T>(
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options?: RaceOptions,
): Promise<Result<Error, T>> {
  return first("race", owner, factories, options);
}

/** `scope.any()` (internal: see `Scope.any`). */
export function anyIn<T>(
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options?: RaceOptions,
): Promise<Result<Error, T>> {
  return first("any", owner, factories, options);
}
