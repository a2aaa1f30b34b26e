// The fields a task needs only with options, retries, a circuit breaker, an
// instrument or once aborted, kept in one record the task allocates when it
// first needs one. Why: a task without any of these (the common case) then
// initialises half as many fields, and V8's generic lookup of `constructor`
// at every `await task` walks half as many own properties.
// Never re-exported by mod.ts.
import { type CircuitBreaker, release } from "../resilience/circuit_breaker.ts";
import type { RetryPolicy } from "../resilience/retry.ts";
import { reasonToError } from "../base/errors.ts";
import type { Logger } from "../base/types.ts";
import type { Timer } from "../base/_symbols.ts";
import type { TaskExtras } from "./task_extras.ts";
import type { TaskProbe } from "./_instrument.ts"; // [instrument]

/** A task's rarely needed fields. */
export class TaskRare {
  /** Whether the task was aborted (cancelled, timed out, its scope or signal aborted). */
  aborted = false;
  /** Why, once aborted. */
  abortReason: unknown = undefined;
  /** The `timeout` option's running deadline. */
  deadline: { cancel(): void } | undefined = undefined;
  /** The timer of a wait between two retries, and what ends the wait early. */
  sleepTimer: Timer | undefined = undefined;
  wake: (() => void) | undefined = undefined;
  /** The `signal` option, listened to while the task runs. */
  signal: AbortSignal | undefined = undefined;
  /** The `retry` option. */
  policy: RetryPolicy | undefined = undefined;
  /** The breaker a call is in right now, and whether that call is its half-open trial. */
  inBreaker: CircuitBreaker | undefined = undefined;
  trial = false;
  /** errorClass, systemErrorClass, dedupe, memo, priority. */
  extras: TaskExtras | undefined = undefined;
  probe: TaskProbe | undefined = undefined; // [instrument]
}

/**
 * What a settling task releases of its rare fields, in this order: its
 * deadline, a wait between retries (woken, so the retry loop sees the
 * Result), its `signal` listener, and a breaker it is still inside (a call
 * cut short by an abort counts as a failure).
 */
export function releaseRare(rare: TaskRare, listener: EventListenerObject, logger: Logger): void {
  rare.deadline?.cancel();
  if (rare.sleepTimer !== undefined) {
    clearTimeout(rare.sleepTimer);
    rare.wake?.();
  }
  rare.signal?.removeEventListener("abort", listener);
  const breaker = rare.inBreaker;
  if (breaker !== undefined) {
    rare.inBreaker = undefined;
    release(breaker, reasonToError(rare.abortReason), false, rare.trial, logger);
  }
}
