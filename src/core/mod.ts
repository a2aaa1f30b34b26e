/**
 * The structured-concurrency core: scopes that own tasks, channels and child
 * scopes; tasks that resolve to `[err, value]` tuples with retry, timeouts and
 * a circuit breaker; `parallel`, `race` and `any`. It never imports Fastify
 * and uses only web-standard APIs, so it runs unchanged in Deno, Node and
 * browsers. API-compatible with the parts of `go-go-scope` request handlers
 * use: alias the bare name `go-go-scope` to this module to run code written
 * for it.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ timeout: 1000 });
 * const [err, results] = await s.parallel([() => 1, async () => "two"], { concurrency: 2 });
 * if (!err) console.log(results); // [ 1, "two" ]
 * ```
 *
 * @module
 */

// Scopes and tasks
export { Scope, scope, type ScopeOptions } from "./scope.ts";
export { Task, type TaskOptions } from "./task.ts";
export type { Factory, ParallelOptions, RaceOptions, Values } from "./parallel.ts";
export type { RetryOption, RetryOptions, RetryPreset } from "./retry.ts";

// Channels
export { type Backpressure, Channel, type ChannelOptions } from "./channel.ts";

// Resilience
export {
  CircuitBreaker,
  type CircuitBreakerEvent,
  type CircuitBreakerEventData,
  type CircuitBreakerOptions,
  type CircuitState,
} from "./circuit_breaker.ts";

// ---- parity 1: context and services (scope-core) ----

// ---- parity 1: cancellation and scheduling (schedule) ----

// ---- parity 1: channels, broadcast, select (channels) ----

// ---- parity 2: locks, idempotency, cache, checkpoints (providers) ----

// ---- parity 2: rate limiting, timing, events, diagnostics (primitives) ----

// Errors
export {
  AbortError,
  ChannelFullError,
  CircuitOpenError,
  ClientDisconnectedError,
  type GoGoScopeErrorOptions,
  ResponseStreamError,
  TimeoutError,
  UnknownError,
} from "./errors.ts";

// Types
export type { Logger, Result, TaskContext, TaskFn } from "./types.ts";
