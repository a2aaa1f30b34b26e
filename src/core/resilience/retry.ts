/**
 * Retry presets, the object form of the `retry` task option, and the retry
 * decision after a failed attempt (whether to retry, and after how long).
 *
 * @module
 */
import { CircuitOpenError, isAbortError, TimeoutError } from "../base/errors.ts";
import type { Logger } from "../base/types.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  describe,
  fail,
} from "../base/_validate.ts";

/** The named retry presets: 3 retries each, starting at 100 ms. */
export type RetryPreset = "exponential" | "linear" | "fixed";

/**
 * The object form of the `retry` option.
 *
 * @example
 * ```ts
 * import { type RetryOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const retry: RetryOptions = { max: 2, delay: 10, if: (e) => !(e instanceof TypeError) };
 * await using s = scope();
 * const [err] = await s.task(() => Promise.reject(new Error("flaky")), { retry });
 * console.log(err?.message); // flaky
 * ```
 */
export interface RetryOptions {
  /**
   * How many retries after the first attempt.
   * @default 3
   */
  max?: number;
  /** Alias of `max`. */
  maxRetries?: number;
  /**
   * Milliseconds before a retry, or a function of the 1-based retry number and
   * the error. @default exponential from 100 ms (100, 200, 400, ...)
   */
  delay?: number | ((attempt: number, error: Error) => number);
  /** Decides whether an error is retried. @default every error */
  if?: (error: Error) => boolean;
  /** Alias of `if`. */
  retryCondition?: (error: Error) => boolean;
  /** Observes each retry before its delay. */
  onRetry?: (error: Error, attempt: number) => void;
}

/** The `retry` task option: a preset name or {@linkcode RetryOptions}. */
export type RetryOption = RetryPreset | RetryOptions;

/** A validated retry policy (internal). */
export interface RetryPolicy {
  max: number;
  delay: (attempt: number, error: Error) => number;
  retryIf: ((error: Error) => boolean) | undefined;
  onRetry: ((error: Error, attempt: number) => void) | undefined;
}

const exponential = (attempt: number): number => 100 * 2 ** (attempt - 1);
const PRESETS: Readonly<Record<RetryPreset, RetryPolicy>> = {
  exponential: { max: 3, delay: exponential, retryIf: undefined, onRetry: undefined },
  linear: { max: 3, delay: (attempt) => 100 * attempt, retryIf: undefined, onRetry: undefined },
  fixed: { max: 3, delay: () => 100, retryIf: undefined, onRetry: undefined },
};
const KNOWN = ["max", "maxRetries", "delay", "if", "retryCondition", "onRetry"] as const;
const WHAT = "Cannot create task";

/** Validates the `retry` option and returns its policy (internal). */
export function toRetryPolicy(retry: RetryOption): RetryPolicy {
  if (typeof retry === "string") {
    // Compared by name rather than looked up: no own-property check on the hot path.
    const preset = retry === "exponential"
      ? PRESETS.exponential
      : retry === "linear"
      ? PRESETS.linear
      : retry === "fixed"
      ? PRESETS.fixed
      : undefined;
    if (preset !== undefined) return preset;
  } else if (typeof retry === "object" && retry !== null && !Array.isArray(retry)) {
    assertKnownKeys(`${WHAT}: "retry"`, retry, KNOWN);
    const maxKey = retry.max !== undefined
      ? "max"
      : retry.maxRetries !== undefined
      ? "maxRetries"
      : undefined;
    const max = maxKey === undefined ? 3 : retry[maxKey];
    assertInteger(WHAT, `retry.${maxKey ?? "max"}`, max, 0);
    const { delay } = retry;
    let delayFn: (attempt: number, error: Error) => number = exponential;
    if (typeof delay === "number") {
      assertMs(WHAT, "retry.delay", delay, true);
      delayFn = () => delay;
    } else if (delay !== undefined) {
      assertFunction(WHAT, "retry.delay", delay);
      delayFn = delay;
    }
    const retryIf = retry.if ?? retry.retryCondition;
    if (retryIf !== undefined) assertFunction(WHAT, "retry.if", retryIf);
    if (retry.onRetry !== undefined) assertFunction(WHAT, "retry.onRetry", retry.onRetry);
    return { max, delay: delayFn, retryIf, onRetry: retry.onRetry };
  }
  fail(
    WHAT,
    "retry",
    "'exponential', 'linear', 'fixed' or an object { max, delay, if, onRetry }",
    retry,
    false,
  );
}

/** Errors that are never retried: cancellations, deadlines and open circuits. */
export function isFinal(error: Error): boolean {
  return error instanceof TimeoutError || error instanceof CircuitOpenError || isAbortError(error);
}

/**
 * Whether `policy` retries `error`: its `retryIf` says so; one that throws is
 * logged (naming `task`) and means no retry.
 */
export function shouldRetry(
  policy: RetryPolicy,
  error: Error,
  logger: Logger,
  task: { readonly name: string },
): boolean {
  if (policy.retryIf === undefined) return true;
  try {
    return policy.retryIf(error) === true;
  } catch (thrown) {
    logger.error(
      { err: thrown, task: task.name },
      "retry condition threw; not retrying",
    );
    return false;
  }
}

/**
 * The delay before retry `attempt`: runs `onRetry` (one that throws is logged,
 * naming `task`, and the retry goes on), then `policy.delay`. Instead of a
 * delay: `{ thrown }` when `policy.delay` threw, or the `RangeError` the task
 * settles with when it returned no finite number >= 0.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: Error,
  logger: Logger,
  task: { readonly name: string },
): number | RangeError | { readonly thrown: unknown } {
  try {
    policy.onRetry?.(error, attempt);
  } catch (thrown) {
    logger.error({ err: thrown, task: task.name }, "onRetry threw; retrying anyway");
  }
  let ms: number;
  try {
    ms = policy.delay(attempt, error);
  } catch (thrown) {
    return { thrown };
  }
  if (typeof ms !== "number" || !(ms >= 0) || !Number.isFinite(ms)) {
    return new RangeError(
      `Cannot retry task: "retry.delay" returned ${describe(ms)}; expected a finite number >= 0`,
    );
  }
  return ms;
}
