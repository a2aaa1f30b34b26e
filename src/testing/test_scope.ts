/**
 * `createTestScope()`: installs a virtual clock and creates a scope on it, in
 * one call.
 *
 * @module
 */
import { type Scope, scope, type ScopeOptions } from "../core/mod.ts";
import { createTimeController, type TimeController } from "./clock/time_controller.ts";

/**
 * What {@linkcode createTestScope} returns: the scope and the installed clock.
 * `await using` it to dispose the scope and uninstall the clock.
 *
 * @example
 * ```ts
 * import { createTestScope, type TestScope } from "@go-go-scope/adapter-fastify/testing";
 *
 * await using test: TestScope = await createTestScope({ timeout: 5000 });
 * await test.time.advance(5000);
 * console.log(test.scope.isAborted); // true
 * ```
 */
export interface TestScope extends AsyncDisposable {
  /** A new scope, created with the virtual clock installed. */
  scope: Scope;
  /** The installed virtual clock. */
  time: TimeController;
}

/**
 * Installs a new virtual clock and creates a scope with `options` (go-go-scope's
 * `createTestScope`, which takes `{ timeout, concurrency }`; any scope option
 * works here). Uninstall the clock when done (`time.uninstall()`), or
 * `await using` the result, which also disposes the scope. Rejects with a
 * `VirtualClockError` while a virtual clock is installed (go-go-scope's
 * silently stacks a second clock over the first).
 *
 * @param options The scope's options.
 * @returns The scope and the clock.
 *
 * @example
 * ```ts
 * import { createTestScope } from "@go-go-scope/adapter-fastify/testing";
 *
 * const { scope, time } = await createTestScope();
 * try {
 *   let attempts = 0;
 *   const task = scope.task(() => {
 *     if (++attempts < 3) throw new Error("fail");
 *     return "success";
 *   }, { retry: { max: 3, delay: 1000 } });
 *   await time.advance(2000); // both retries
 *   const [, result] = await task;
 *   console.log(result, attempts); // success 3
 * } finally {
 *   await scope[Symbol.asyncDispose]();
 *   time.uninstall();
 * }
 * ```
 */
export async function createTestScope(options?: ScopeOptions): Promise<TestScope> {
  const time = createTimeController();
  time.install();
  let s: Scope;
  try {
    s = scope(options);
  } catch (error) {
    time.uninstall();
    throw error;
  }
  return {
    scope: s,
    time,
    async [Symbol.asyncDispose](): Promise<void> {
      try {
        await s[Symbol.asyncDispose]();
      } finally {
        time.uninstall();
      }
    },
  };
}
