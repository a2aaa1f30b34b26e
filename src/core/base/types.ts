/**
 * The types shared across the core: Result tuples, the logger shape and the
 * context every task receives.
 *
 * @module
 */
import type { Logger } from "./loggers.ts";

export type { Logger } from "./loggers.ts";
export { defaultLogger } from "./loggers.ts";

/**
 * The outcome of anything that runs user code: `[undefined, value]` on
 * success, `[error, undefined]` on failure. Checking the error narrows the
 * value:
 *
 * @example
 * ```ts
 * import type { Result } from "@go-go-scope/adapter-fastify/core";
 *
 * function use(result: Result<Error, number>): number {
 *   const [err, value] = result;
 *   if (err) return -1;
 *   return value; // number
 * }
 * console.log(use([undefined, 2]));
 * ```
 */
export type Result<E, T> =
  | readonly [error: E, value: undefined]
  | readonly [error: undefined, value: T];

/** What `ctx.checkpoint` offers a task with an `id`. */
export interface CheckpointContext<T = unknown> {
  /** Saves `data` as the task's newest checkpoint. */
  save(data: T): Promise<void>;
  /** The data of the newest checkpoint (a previous run's, or the last saved). */
  readonly data: T | undefined;
}

/** Progress reporting: `ctx.progress` of a task with an `id`, or `createProgressContext()`. */
export interface ProgressContext {
  /** Sets the progress, 0 to 100; listeners are called with it and an estimate of the ms left. */
  update(percentage: number): void;
  /** The last progress and estimate. */
  get(): { percentage: number; eta?: number };
  /** Calls `callback` on every update. @returns A function that removes it. */
  onUpdate(callback: (progress: { percentage: number; eta?: number }) => void): () => void;
}

/**
 * What a task function receives. `S` is the scope's service map.
 *
 * @example
 * ```ts
 * import { scope, type TaskContext } from "@go-go-scope/adapter-fastify/core";
 *
 * async function load({ signal }: TaskContext): Promise<string> {
 *   signal.throwIfAborted();
 *   return "data";
 * }
 * await using s = scope();
 * const [, data] = await s.task(load);
 * console.log(data); // data
 * ```
 */
export interface TaskContext<
  S extends Record<string | symbol, unknown> = Record<string | symbol, unknown>,
> {
  /** Aborts when the task is cancelled, times out, or its scope aborts. */
  readonly signal: AbortSignal;
  /** The scope's context record (merged over its parents', `setContext` values included). */
  readonly context: Readonly<Record<string, unknown>>;
  /** The scope's logger. */
  readonly logger: Logger;
  /** With the task option `id`: save checkpoints and read the latest one's data. */
  readonly checkpoint?: CheckpointContext;
  /** With the task option `id`: report progress (saved with each checkpoint). */
  readonly progress?: ProgressContext;
  /** The services provided to the scope and its ancestors (see `scope.provide()`). */
  readonly services: Readonly<S>;
}

/**
 * A task function: sync or async, given a {@linkcode TaskContext} (`S` is
 * the scope's service map).
 *
 * @example
 * ```ts
 * import type { TaskFn } from "@go-go-scope/adapter-fastify/core";
 *
 * const fn: TaskFn<number> = ({ signal }) => signal.aborted ? 0 : 1;
 * console.log(typeof fn);
 * ```
 */
export type TaskFn<
  T,
  S extends Record<string | symbol, unknown> = Record<string | symbol, unknown>,
> = (ctx: TaskContext<S>) => T | PromiseLike<T>;
