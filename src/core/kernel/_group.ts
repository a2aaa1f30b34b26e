// What parallel(), race() and any() share: the owner they start tasks on,
// input checks, the group deadline and the final cancel-and-wait.
import { TimeoutError } from "../base/errors.ts";
import { startDeadline } from "./_deadline.ts";
import type { Task } from "./task.ts";
import type { TaskFn } from "../base/types.ts";
import { describe, typeError } from "../base/_validate.ts";

/** A factory run by `parallel`, `race` or `any`: a task function. */
export type Factory = TaskFn<unknown>;

/** What a group needs from its scope (a structural view of `Scope`). */
export interface GroupOwner {
  task<T>(fn: TaskFn<T>, options?: { signal?: AbortSignal }): Task<T>;
}

export function checkFactories(
  what: string,
  factories: unknown,
): asserts factories is readonly Factory[] {
  if (!Array.isArray(factories)) {
    throw typeError(
      `${what}: "factories" must be an array of functions, received ${describe(factories)}`,
    );
  }
  for (let i = 0; i < factories.length; i++) {
    if (typeof factories[i] !== "function") {
      throw typeError(
        `${what}: "factories[${i}]" must be a function, received ${describe(factories[i])}`,
      );
    }
  }
}

export function checkSignal(what: string, signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError(`${what}: "signal" must be an AbortSignal, received ${describe(signal)}`);
  }
}

/** Cancels every unsettled task and waits until all have settled. */
export async function settleAll(tasks: readonly Task<unknown>[], reason: unknown): Promise<void> {
  for (const t of tasks) t.cancel(reason);
  await Promise.all(tasks);
}

/** A group deadline: resolves to a TimeoutError when `ms` passes. */
export function deadline(
  what: string,
  ms: number | undefined,
): { promise: Promise<Error>; clear(): void } | undefined {
  if (ms === undefined) return undefined;
  let expire!: (error: Error) => void;
  const promise = new Promise<Error>((resolve) => expire = resolve);
  // The same shared deadline lists as scopes and tasks; the error is built only if it fires.
  const started = startDeadline(
    ms,
    (resolve, after) =>
      resolve(new TimeoutError(`${what} exceeded its timeout of ${after} ms`, after)),
    expire,
  );
  return { promise, clear: () => started.cancel() };
}
