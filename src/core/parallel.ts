/**
 * `parallel()`, `race()` and `any()`: several tasks of one scope, combined.
 *
 * @module
 */
import { AbortError, TimeoutError } from "./errors.ts";
import { startDeadline } from "./_deadline.ts";
import type { Task } from "./task.ts";
import type { Result, TaskFn } from "./types.ts";
import { assertInteger, assertKnownKeys, assertMs, assertObject, fail } from "./_validate.ts";

/** A factory run by `parallel`, `race` or `any`: a task function. */
export type Factory = TaskFn<unknown>;

/** The success values of `parallel(factories)`, typed per position. */
export type Values<F extends readonly Factory[]> = {
  -readonly [K in keyof F]: Awaited<ReturnType<F[K]>>;
};

/**
 * Options of `scope.parallel()`.
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
}

/**
 * Options of `scope.race()` and `scope.any()`.
 *
 * @example
 * ```ts
 * import { type RaceOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: RaceOptions = { timeout: 1000 };
 * await using s = scope();
 * const [, winner] = await s.race([() => "fast", () => new Promise<string>(() => {})], options);
 * console.log(winner); // fast
 * ```
 */
export interface RaceOptions {
  /** A deadline in ms: at expiry the group fails with a `TimeoutError`. */
  timeout?: number;
}

/** What a group needs from its scope (a structural view of `Scope`). */
export interface GroupOwner {
  task<T>(fn: TaskFn<T>, options?: { signal?: AbortSignal }): Task<T>;
}

function checkFactories(what: string, factories: unknown): asserts factories is readonly Factory[] {
  if (!Array.isArray(factories)) {
    fail(what, "factories", "an array of functions", factories, false);
  }
  for (let i = 0; i < factories.length; i++) {
    if (typeof factories[i] !== "function") {
      fail(what, `factories[${i}]`, "a function", factories[i], false);
    }
  }
}

function checkOptions(what: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  assertObject(what, "options", options);
  assertKnownKeys(what, options, known);
  const { timeout, concurrency, continueOnError } = options as ParallelOptions;
  if (timeout !== undefined) assertMs(what, "timeout", timeout);
  if (concurrency !== undefined) assertInteger(what, "concurrency", concurrency, 1);
  if (continueOnError !== undefined && typeof continueOnError !== "boolean") {
    fail(what, "continueOnError", "a boolean", continueOnError, false);
  }
}

/** Cancels every unsettled task and waits until all have settled. */
async function settleAll(tasks: readonly Task<unknown>[], reason: unknown): Promise<void> {
  for (const t of tasks) t.cancel(reason);
  await Promise.all(tasks);
}

/** A group deadline: resolves to a TimeoutError when `ms` passes. */
function deadline(
  what: string,
  ms: number | undefined,
): { promise: Promise<Error>; clear(): void } | undefined {
  if (ms === undefined) return undefined;
  let expire!: (error: Error) => void;
  const promise = new Promise<Error>((resolve) => expire = resolve);
  // The same shared deadline lists as scopes and tasks; the error is built only if it fires.
  const started = startDeadline(
    ms,
    (resolve, after) => resolve(new TimeoutError(`${what} timed out after ${after} ms`, after)),
    expire,
  );
  return { promise, clear: () => started.cancel() };
}

/** `scope.parallel()` (internal: see `Scope.parallel`). */
export function parallel(
  owner: GroupOwner,
  factories: readonly Factory[],
  options?: ParallelOptions,
): Promise<Result<Error, unknown[]>> {
  const what = "Cannot run parallel";
  checkFactories(what, factories);
  checkOptions(what, options, ["concurrency", "continueOnError", "timeout"]);
  return runParallel(owner, factories, options);
}

async function runParallel(
  owner: GroupOwner,
  factories: readonly Factory[],
  options: ParallelOptions | undefined,
): Promise<Result<Error, unknown[]>> {
  const limit = options?.concurrency ?? Infinity;
  const continueOnError = options?.continueOnError === true;
  const n = factories.length;
  const values: unknown[] = new Array(n);
  const started: Task<unknown>[] = [];
  const timer = deadline("parallel", options?.timeout);
  let next = 0;
  let done = 0;
  let stopped = false;

  const outcome = await new Promise<Error | undefined>((resolve) => {
    const stop = (error: Error | undefined): void => {
      stopped = true;
      resolve(error);
    };
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
  if (outcome !== undefined) {
    await settleAll(
      started,
      new AbortError("Cancelled: a sibling in parallel() failed", undefined, { cause: outcome }),
    );
    return [outcome, undefined];
  }
  return [undefined, values];
}

/** `scope.race()` and `scope.any()` (internal). */
function first<T>(
  name: "race" | "any",
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options: RaceOptions | undefined,
): Promise<Result<Error, T>> {
  const what = `Cannot run ${name}`;
  checkFactories(what, factories);
  checkOptions(what, options, ["timeout"]);
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
  const timer = deadline(name, options?.timeout);
  const tasks = factories.map((f) => owner.task(f));
  const errors: Error[] = new Array(tasks.length);
  let failed = 0;
  const result = await new Promise<Result<Error, T>>((resolve) => {
    timer?.promise.then((e) => resolve([e, undefined]));
    tasks.forEach((t, i) =>
      t.then((r) => {
        if (name === "race" || r[0] === undefined) return resolve(r);
        errors[i] = r[0];
        if (++failed === tasks.length) {
          resolve([new AggregateError(errors, "any: every task failed"), undefined]);
        }
      })
    );
  });
  timer?.clear();
  await settleAll(tasks as Task<unknown>[], new AbortError(`Cancelled: ${name}() was decided`));
  return result;
}

/** `scope.race()` (internal: see `Scope.race`). */
export function race<T>(
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options?: RaceOptions,
): Promise<Result<Error, T>> {
  return first("race", owner, factories, options);
}

/** `scope.any()` (internal: see `Scope.any`). */
export function any<T>(
  owner: GroupOwner,
  factories: readonly TaskFn<T>[],
  options?: RaceOptions,
): Promise<Result<Error, T>> {
  return first("any", owner, factories, options);
}
