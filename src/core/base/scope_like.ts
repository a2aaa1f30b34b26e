/**
 * `ScopeLike`: what a feature needs from a scope, so that no feature imports
 * the `Scope` class (which imports every feature).
 *
 * @module
 */
import type { Logger, Result, TaskFn } from "./types.ts";
import type { Abortable, ATTACH, CHILDREN, DETACH } from "./_symbols.ts";

/**
 * A scope as the core's features see it: its place in the tree, its logger
 * and signal, whether it aborted and why, its tasks, its cleanups, and the
 * objects it notifies when it aborts. `Scope` implements it; the functions
 * and classes that take a scope (`createEventEmitter`, `TokenBucket`,
 * `MemoryMonitor`, ...) take a `ScopeLike`.
 *
 * @example
 * ```ts
 * import { scope, type ScopeLike } from "@go-go-scope/adapter-fastify/core";
 *
 * function label(s: ScopeLike): string {
 *   return s.isAborted ? `${s.name} (aborted)` : s.name;
 * }
 * await using s = scope({ name: "job" });
 * console.log(label(s)); // job
 * ```
 */
export interface ScopeLike {
  /** The scope's name. */
  readonly name: string;
  /** The parent scope, if any. */
  readonly parent: ScopeLike | undefined;
  /** The scope's logger. */
  readonly logger: Logger;
  /** Aborts when the scope is cancelled, times out, disposed, or its parent aborts. */
  readonly signal: AbortSignal;
  /** True once the scope was cancelled, timed out or disposed. */
  readonly isAborted: boolean;
  /** Why the scope aborted (`undefined` while it has not). */
  readonly abortReason: unknown;
  /** True once disposal has begun. */
  readonly isDisposed: boolean;
  /** How many child scopes are alive. */
  readonly childCount: number;
  /** How many of the scope's tasks have not settled yet. */
  readonly taskCount: number;
  /** Starts `fn` as a task of the scope; it resolves to a Result and never rejects. */
  task<T>(fn: TaskFn<T>): Promise<Result<Error, T>>;
  /** Registers a cleanup that runs when the scope is disposed. */
  onDispose(fn: () => unknown): void;
  /** Aborts the scope (and its children, tasks and channels) with `reason`. */
  cancel(reason?: unknown): void;
  /** Disposes the scope: aborts it, disposes its children, waits for its tasks, runs its cleanups. */
  [Symbol.asyncDispose](): Promise<void>;
  /** @internal Notifies `dependent` when the scope aborts. */
  [ATTACH](dependent: Abortable): void;
  /** @internal Stops notifying `dependent`. */
  [DETACH](dependent: Abortable): void;
  /** @internal The live children, in creation order. */
  [CHILDREN](): ScopeLike[];
}
