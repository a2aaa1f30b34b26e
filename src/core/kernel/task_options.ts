/**
 * The options of `scope.task()`: their type and the list of their names.
 *
 * @module
 */
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";
import type { CircuitBreakerOptions } from "../resilience/circuit_breaker_options.ts";
import type { CheckpointOptions } from "../persistence/checkpoint.ts";
import type { IdempotencyOptions } from "../resilience/idempotency.ts";
import type { RetryOption } from "../resilience/retry.ts";
import type { ErrorClass, MemoOptions } from "./task_extras.ts";
import { keysOf } from "../base/_validate.ts";

/**
 * Options of `scope.task()`.
 *
 * @example
 * ```ts
 * import { scope, type TaskOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: TaskOptions = { retry: "exponential", timeout: 5000 };
 * await using s = scope();
 * const [err, value] = await s.task(() => 1, options);
 * console.log(err, value); // undefined 1
 * ```
 */
export interface TaskOptions<E extends Error = Error> {
  /**
   * A deadline in ms for the whole task, retries included. At expiry the
   * task's signal aborts and the Result is `[TimeoutError, undefined]`.
   */
  timeout?: number;
  /** Retry failed attempts: a preset name or `{ max, delay, if, onRetry }`. */
  retry?: RetryOption;
  /**
   * A breaker to use instead of the scope's, options for a breaker of this
   * task alone (its retries go through it), or `false` to bypass any.
   */
  circuitBreaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** An extra signal that cancels the task. */
  signal?: AbortSignal;
  /** A name for logs and errors. @default `task-<id>` */
  name?: string;
  /** Reuse a stored successful result under `key` (see idempotency.ts). */
  idempotency?: IdempotencyOptions;
  /** A stable id: the task gets `ctx.checkpoint` and `ctx.progress` (see checkpoint.ts). */
  id?: string;
  /** Checkpoint settings for a task with an `id`. */
  checkpoint?: CheckpointOptions;

  // ---- parity 1 task options (scope-core) ----
  /**
   * Wrap every failure (cancellations and timeouts included) in this class:
   * `new errorClass(message, { cause: original })`, unless it already is one.
   * Types the Result's error as `E`. Not together with `systemErrorClass`.
   */
  errorClass?: ErrorClass<E>;
  /**
   * Wrap only plain, untagged errors (and non-Error values) the function
   * throws in this class, instead of `UnknownError`; Error subclasses and
   * errors with a `_tag` pass through, and so do cancellations.
   */
  systemErrorClass?: ErrorClass;
  /**
   * Tasks of one scope started with the same key while one of them is
   * unsettled share that one's run and Result (the function of the later ones
   * is not called).
   */
  dedupe?: string | symbol;
  /**
   * Cache a successful Result under `key` for `ttl` ms: later tasks of this
   * scope with the key resolve to it without running. Failures are not cached.
   */
  memo?: MemoOptions;
  /** Under the scope's concurrency limit, higher priorities start first (FIFO among equals). @default 0 */
  priority?: number;
}

export const KNOWN = keysOf<TaskOptions>()([
  "timeout",
  "retry",
  "circuitBreaker",
  "signal",
  "name",
  "idempotency",
  "id",
  "checkpoint",
  "errorClass",
  "systemErrorClass",
  "dedupe",
  "memo",
  "priority",
]);
