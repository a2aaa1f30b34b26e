/**
 * Assertions on tasks' Results (`expectTask`, `assertResolves`,
 * `assertRejects`, `assertResolvesWithin`) and on a scope's disposal
 * (`assertScopeDisposed`). Failures throw `node:assert`'s `AssertionError`.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { inspect, isDeepStrictEqual } from "node:util";
import type { Result, Scope, ServiceMap } from "../core/mod.ts";
import { installedController } from "./clock/time_controller.ts";
import { assertMs } from "./_validate.ts";

/**
 * What {@linkcode expectTask} returns: the checks to run on the task's Result.
 *
 * @example
 * ```ts
 * import { expectTask, type TaskAssertion } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const check: TaskAssertion<string> = expectTask(s.task(() => "done"));
 * await check.toResolveWith("done");
 * ```
 */
export interface TaskAssertion<T> {
  /** Fails unless the Result has no error. */
  toResolve: () => Promise<void>;
  /** Fails unless the Result's value deeply and strictly equals `expected`. */
  toResolveWith: (expected: T) => Promise<void>;
  /**
   * The same checks, failing too when the task has not settled within
   * `timeoutMs` (virtual milliseconds while a virtual clock is installed).
   */
  toResolveWithin: (timeoutMs: number) => TaskAssertion<T>;
  /** Fails unless the Result has an error. */
  toReject: () => Promise<void>;
  /** Fails unless the error's message equals the string (or matches the RegExp). */
  toRejectWith: (message: string | RegExp) => Promise<void>;
  /** Fails unless the error is an instance of `errorClass`. */
  toRejectWithType: <E extends Error>(errorClass: new (...args: never[]) => E) => Promise<void>;
  /** The Result, for checks of your own. */
  result: () => Promise<Result<Error, T>>;
}

function failure(message: string): AssertionError {
  return new AssertionError({ message });
}

/**
 * Settles with `task`, or fails when it has not settled within `ms`: with a
 * virtual clock installed, the clock is advanced (timer by timer, stopping as
 * soon as the task settles) by at most `ms`; otherwise a real timer races it
 * (and is cleared).
 */
async function settleWithin<T>(task: PromiseLike<T>, ms: number): Promise<T> {
  let settled = false;
  const result = Promise.resolve(task).then((value) => {
    settled = true;
    return value;
  });
  const late = () => failure(`Task did not resolve within ${ms}ms`);
  // With no virtual clock of ours installed, the global timer: real, or another fake clock's.
  const controller = installedController();
  if (controller !== undefined) {
    if (!await controller.runUntil(() => settled, ms)) throw late();
    return result;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorOf(err: unknown): string {
  return err instanceof Error ? err.message : inspect(err);
}

/**
 * Checks for a task's Result (go-go-scope's `expectTask`). Each check awaits
 * the task once. Unlike go-go-scope's, `toResolveWith` compares with deep
 * strict equality (go-go-scope's `!==` fails for any object), and
 * `toResolveWithin` neither leaves a timer behind nor, with a virtual clock
 * installed, waits in real time: it advances the clock itself.
 *
 * @typeParam T The task's value.
 * @param task A task (or any promise of a Result).
 * @returns The checks.
 *
 * @example
 * ```ts
 * import { expectTask } from "@go-go-scope/adapter-fastify/testing";
 * import { scope, TimeoutError } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * await expectTask(s.task(() => ({ id: 1 }))).toResolveWith({ id: 1 });
 * await expectTask(s.task(() => Promise.reject(new Error("fail")))).toRejectWith("fail");
 * await expectTask(s.task(() => new Promise(() => {}), { timeout: 10 }))
 *   .toRejectWithType(TimeoutError);
 * ```
 */
export function expectTask<T>(task: PromiseLike<Result<Error, T>>): TaskAssertion<T> {
  return assertion(() => task);
}

function assertion<T>(settle: () => PromiseLike<Result<Error, T>>): TaskAssertion<T> {
  let once: Promise<Result<Error, T>> | undefined;
  const result = () => once ??= Promise.resolve(settle());
  const self: TaskAssertion<T> = {
    toResolve: async () => {
      const [err] = await result();
      if (err) throw failure(`Expected task to resolve, but rejected: ${errorOf(err)}`);
    },
    toResolveWith: async (expected) => {
      const [err, value] = await result();
      if (err) {
        throw failure(
          `Expected task to resolve with ${inspect(expected)}, but rejected: ${errorOf(err)}`,
        );
      }
      if (!isDeepStrictEqual(value, expected)) {
        throw new AssertionError({
          message: `Expected task to resolve with ${inspect(expected)}, but got ${inspect(value)}`,
          actual: value,
          expected,
          operator: "deepStrictEqual",
        });
      }
    },
    toResolveWithin: (timeoutMs) => {
      assertMs("Cannot check the task", "timeoutMs", timeoutMs);
      return assertion(() => settleWithin(result(), timeoutMs));
    },
    toReject: async () => {
      const [err] = await result();
      if (!err) throw failure("Expected task to reject, but resolved successfully");
    },
    toRejectWith: async (message) => {
      const [err] = await result();
      if (!err) {
        throw failure(`Expected task to reject with "${message}", but resolved successfully`);
      }
      const text = errorOf(err);
      const matches = typeof message === "string" ? text === message : message.test(text);
      if (!matches) throw failure(`Expected error message "${message}", but got "${text}"`);
    },
    toRejectWithType: async (errorClass) => {
      const [err] = await result();
      if (!err) {
        throw failure(
          `Expected task to reject with ${errorClass.name}, but resolved successfully`,
        );
      }
      if (!(err instanceof errorClass)) {
        const got = (err as { constructor?: { name?: string } }).constructor?.name ?? typeof err;
        throw failure(`Expected error to be instance of ${errorClass.name}, but got ${got}`);
      }
    },
    result,
  };
  return self;
}

/**
 * Awaits the task and fails when its Result has an error; returns the Result.
 *
 * @typeParam T The task's value.
 * @param task A task (or any promise of a Result).
 * @returns The Result, `[undefined, value]`.
 *
 * @example
 * ```ts
 * import { assertResolves } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const [, value] = await assertResolves(s.task(() => "done"));
 * console.log(value); // done
 * ```
 */
export async function assertResolves<T>(
  task: PromiseLike<Result<Error, T>>,
): Promise<Result<Error, T>> {
  const result = await task;
  if (result[0]) throw failure(`Expected task to resolve, but rejected: ${errorOf(result[0])}`);
  return result;
}

/**
 * Awaits the task and fails when its Result has no error; returns the error.
 *
 * @typeParam T The task's value.
 * @param task A task (or any promise of a Result).
 * @returns The Result's error.
 *
 * @example
 * ```ts
 * import { assertRejects } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const err = await assertRejects(s.task(() => Promise.reject(new Error("fail"))));
 * console.log(err.message); // fail
 * ```
 */
export async function assertRejects<T>(task: PromiseLike<Result<Error, T>>): Promise<Error> {
  const [err] = await task;
  if (!err) throw failure("Expected task to reject, but resolved successfully");
  return err;
}

/**
 * Fails when the task has not settled within `timeoutMs`; returns its Result,
 * which may hold an error (as go-go-scope's: "resolves" means the task
 * settles; check the error yourself, or use `assertResolves`). With a virtual
 * clock installed the limit is virtual: the clock is advanced, timer by timer,
 * by at most `timeoutMs`, stopping as soon as the task settles. Unlike
 * go-go-scope's, no timer is left behind.
 *
 * @typeParam T The task's value.
 * @param task A task (or any promise of a Result).
 * @param timeoutMs The limit in milliseconds.
 * @returns The Result.
 *
 * @example
 * ```ts
 * import { assertResolvesWithin, createTimeController } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * using time = createTimeController();
 * time.install();
 * await using s = scope();
 * const slow = s.task(() => new Promise((r) => setTimeout(() => r("late"), 60_000)));
 * const [, value] = await assertResolvesWithin(slow, 90_000); // no real minute passes
 * console.log(value, time.now); // late 60000
 * ```
 */
export function assertResolvesWithin<T>(
  task: PromiseLike<Result<Error, T>>,
  timeoutMs: number,
): Promise<Result<Error, T>> {
  assertMs("Cannot check the task", "timeoutMs", timeoutMs);
  return settleWithin(task, timeoutMs);
}

/**
 * Disposes the scope and fails unless it then reports disposed, its signal is
 * aborted, and no task or child scope of it is left. go-go-scope's checks the
 * first two only.
 *
 * @param scope The scope.
 * @returns Resolves once the scope is disposed and checked.
 *
 * @example
 * ```ts
 * import { assertScopeDisposed } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const s = scope();
 * s.task(() => new Promise((r) => setTimeout(r, 10)));
 * await assertScopeDisposed(s);
 * console.log(s.isDisposed); // true
 * ```
 */
export async function assertScopeDisposed<S extends ServiceMap>(scope: Scope<S>): Promise<void> {
  await scope[Symbol.asyncDispose]();
  if (!scope.signal.aborted) throw failure("Scope signal was not aborted after disposal");
  if (!scope.isDisposed) throw failure("Scope did not report as disposed");
  if (scope.taskCount !== 0) {
    throw failure(
      `Scope "${scope.name}" still has ${scope.taskCount} unsettled task(s) after disposal`,
    );
  }
  if (scope.childCount !== 0) {
    throw failure(
      `Scope "${scope.name}" still has ${scope.childCount} child scope(s) after disposal`,
    );
  }
}
