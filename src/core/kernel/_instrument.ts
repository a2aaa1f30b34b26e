// The core's one instrumentation hook: an optional per-scope instrument,
// inherited by child scopes, that a task calls when it starts (to wrap its
// function, e.g. with a tracing span made active), on each retry, and when it
// settles. Web standards only: the OpenTelemetry code lives in the adapters.
// When a scope has no instrument, a task pays one field read.
import { TimeoutError } from "../base/errors.ts";
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";

/** Where a scope keeps its instrument (see `instrumentScope` in `internal.ts`). */
export const INSTRUMENT: unique symbol = Symbol("ggs.instrument");

/** How a task ended: `cancelled` and `timeout` are aborts (the reason tells which). */
export type TaskOutcome = "ok" | "error" | "cancelled" | "timeout";

/** A task as an instrument sees it when it starts. */
export interface InstrumentedTask {
  /** A process-unique id. */
  readonly id: number;
  /** The `name` option, else `task-<id>`. */
  readonly name: string;
}

/** The scope a task runs in, as an instrument sees it. */
export interface InstrumentedScope {
  readonly name: string;
  readonly circuitBreaker: CircuitBreaker | undefined;
}

/** The options a task was started with (validated), as an instrument reads them. */
export interface InstrumentedOptions {
  readonly name?: string | undefined;
  readonly timeout?: number | undefined;
  readonly retry?: unknown;
  readonly circuitBreaker?: unknown;
}

/** What watches one task, from its start to its end. */
export interface TaskProbe {
  /** Runs one attempt of the task's function (e.g. with the task's span active). */
  run<A, R>(fn: (arg: A) => R, arg: A): R;
  /** Attempt `attempt` (1 = the first retry) starts after `delayMs`, because of `error`. */
  retry(attempt: number, error: Error, delayMs: number): void;
  /**
   * The task settled: `error` is its Result's error (`undefined` when ok); `reason` the abort
   * reason when it was cancelled or timed out.
   */
  end(outcome: TaskOutcome, error: Error | undefined, reason: unknown): void;
}

/** A scope's instrument: asked once per task that runs its own function. */
export interface TaskInstrument {
  /** A task of `scope` starts; `undefined` when it is not watched. */
  start(
    task: InstrumentedTask,
    scope: InstrumentedScope,
    fn: (...args: never[]) => unknown,
    options: InstrumentedOptions | undefined,
  ): TaskProbe | undefined;
}

/** `fn`, each call run through `probe` (the task's function, instrumented). */
export function probed<A, R>(fn: (arg: A) => R, probe: TaskProbe): (arg: A) => R {
  return (arg: A): R => probe.run(fn, arg);
}

/** Tells `probe` how the task ended. */
export function endProbe(
  probe: TaskProbe,
  failed: boolean,
  outcome: unknown,
  aborted: boolean,
  reason: unknown,
): void {
  if (!failed) return probe.end("ok", undefined, undefined);
  const error = outcome as Error;
  if (!aborted) return probe.end("error", error, undefined);
  probe.end(reason instanceof TimeoutError ? "timeout" : "cancelled", error, reason);
}
