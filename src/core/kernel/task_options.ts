/**
 * The options of `scope.task()`: their type, the list of their names, and
 * their parsing into a task's settings.
 *
 * @module
 */
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";
import type { CircuitBreakerOptions } from "../resilience/circuit_breaker_options.ts";
import { toBreaker } from "../resilience/_breaker_option.ts";
import { type CheckpointOptions, withCheckpoints } from "../persistence/checkpoint.ts";
import { type IdempotencyOptions, withIdempotency } from "../resilience/idempotency.ts";
import { type RetryOption, type RetryPolicy, toRetryPolicy } from "../resilience/retry.ts";
import type { TaskFn } from "../base/types.ts";
import { type ErrorClass, type MemoOptions, parseExtras, type TaskExtras } from "./task_extras.ts";
import type { TaskOwner } from "./_owner.ts";
import {
  assertInstance,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertString,
  fail,
  keysOf,
} from "../base/_validate.ts";

const WHAT = "Cannot create task";

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
  /** A stable id: names the task; with `checkpoint`, its checkpoints are kept under it. */
  id?: string;
  /** Checkpoints for a task with an `id`: it gets `ctx.checkpoint` and `ctx.progress` (see checkpoint.ts). */
  checkpoint?: CheckpointOptions;

  // ---- parity 1 task options (scope-core) ----
  /**
   * Wrap every failure (cancellations and timeouts included) in this class:
   * `new errorClass(message, { cause: original })`, unless it already is one.
   * Types the Result's error as `E`. Given with `systemErrorClass`, it wins.
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

/** What a task's options set, as `parseTaskOptions()` returns it. */
export interface TaskSettings<T> {
  /** The `name` option, or the checkpoint `id`. */
  name: string | undefined;
  timeout: number | undefined;
  policy: RetryPolicy | undefined;
  /** The `circuitBreaker` option's breaker, else the owner's. */
  breaker: CircuitBreaker | undefined;
  signal: AbortSignal | undefined;
  /** The task function, wrapped for checkpoints and idempotency when asked. */
  fn: TaskFn<T>;
  extras: TaskExtras | undefined;
}

/** Validates a task's options, in order, and returns what they set for `fn` run by `owner`. */
export function parseTaskOptions<T>(
  options: TaskOptions,
  fn: TaskFn<T>,
  owner: TaskOwner,
): TaskSettings<T> {
  let name: string | undefined;
  let timeout: number | undefined;
  let policy: RetryPolicy | undefined;
  let breaker = owner.circuitBreaker;
  let signal: AbortSignal | undefined;
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
  if (options.name !== undefined) {
    assertString(WHAT, "name", options.name);
    name = options.name;
  }
  if (options.timeout !== undefined) {
    assertMs(WHAT, "timeout", options.timeout);
    timeout = options.timeout;
  }
  if (options.retry !== undefined) policy = toRetryPolicy(options.retry as RetryOption);
  const cb = options.circuitBreaker;
  if (cb !== undefined) {
    breaker = toBreaker(WHAT, "circuitBreaker", cb, { orOptions: true, orFalse: true }) ||
      undefined;
  }
  if (options.signal !== undefined) {
    assertInstance<AbortSignal>(WHAT, "signal", options.signal, AbortSignal, "an AbortSignal");
    signal = options.signal;
  }
  if (options.id !== undefined) {
    assertString(WHAT, "id", options.id);
    if (options.id === "") fail(WHAT, "id", "a non-empty string", options.id, true);
    name ??= options.id;
  }
  if (options.checkpoint !== undefined) {
    fn = withCheckpoints(fn, options.id, options.checkpoint, owner);
  }
  if (options.idempotency !== undefined) {
    fn = withIdempotency(fn, options.idempotency, owner);
  }
  const extras = parseExtras(WHAT, options);
  return { name, timeout, policy, breaker, signal, fn, extras };
}
