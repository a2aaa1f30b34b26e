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
  type CircuitBreakerAdvancedOptions,
  type CircuitBreakerEvent,
  type CircuitBreakerEventHandler,
  type CircuitBreakerEvents,
  type CircuitBreakerHooks,
  type CircuitBreakerOptions,
  type CircuitState,
} from "./circuit_breaker.ts";

// ---- parity 1: context and services (scope-core) ----
export type { NoServices, OverrideOptions, ProvideOptions, ServiceMap } from "./services.ts";
export type { ErrorClass, MemoOptions } from "./task_extras.ts";
export { InMemoryMemoStore, type MemoStore } from "./memo.ts";

// ---- parity 1: cancellation and scheduling (schedule) ----
export { abortPromise, onAbort, whenAborted } from "./cancellation.ts";
export {
  poll,
  type PollContext,
  type PollController,
  type PollOptions,
  type PollStatus,
} from "./poll.ts";
export { Semaphore } from "./semaphore.ts";
export { parallel, race } from "./standalone.ts";
export { AsyncDisposableResource } from "./resource.ts";
export {
  benchmark,
  type BenchmarkOptions,
  type BenchmarkResult,
  MemoryTracker,
} from "./performance.ts";
export {
  type MonitoredScope,
  type PerformanceMetrics,
  PerformanceMonitor,
  performanceMonitor,
  type PerformanceMonitorOptions,
  type PerformanceSnapshot,
  type Trend,
} from "./performance_monitor.ts";

// ---- parity 1: channels, broadcast, select (channels) ----
export type { BackpressureStrategy } from "./channel.ts";
export { BroadcastChannel } from "./broadcast.ts";
export type { SelectHandler, SelectOptions } from "./select.ts";

// ---- parity 2: locks, idempotency, cache, checkpoints (providers) ----
export type {
  CacheProvider,
  CacheStats,
  Checkpoint,
  CheckpointProvider,
  CircuitBreakerPersistedState,
  CircuitBreakerStateProvider,
  IdempotencyProvider,
  LockHandle,
  LockMode,
  LockProvider,
  PersistenceAdapter,
  PersistenceAdapterOptions,
  PersistenceProviders,
} from "./persistence.ts";
export {
  getPersistence,
  type PersistenceNode,
  type PersistenceOption,
  resolvePersistence,
} from "./scope_persistence.ts";
export {
  createLock,
  Lock,
  type LockAcquireOptions,
  LockGuard,
  type LockOptions,
  type LockStats,
} from "./lock.ts";
export { InMemoryLockProvider } from "./in_memory_lock_provider.ts";
export { createCache, InMemoryCache, type InMemoryCacheOptions } from "./cache.ts";
export {
  createIdempotencyProvider,
  type IdempotencyOptions,
  InMemoryIdempotencyProvider,
  type InMemoryIdempotencyProviderOptions,
} from "./idempotency.ts";
export {
  type CheckpointContext,
  type CheckpointOptions,
  createProgressContext,
  InMemoryCheckpointProvider,
  type ProgressContext,
  type ResumeTaskOptions,
} from "./checkpoint.ts";

// ---- parity 2: rate limiting, timing, events, diagnostics (primitives) ----
export { Batch, type BatchOptions } from "./batch.ts";
export type { DebounceOptions } from "./debounce.ts";
export type { DebugTreeOptions } from "./debug_tree.ts";
export {
  createEventEmitter,
  type EventHandler,
  type EventMap,
  ScopedEventEmitter,
} from "./event_emitter.ts";
export {
  GracefulShutdownController,
  type GracefulShutdownOptions,
  type SignalSource,
} from "./graceful_shutdown.ts";
export type { ScopeHooks } from "./hooks.ts";
export {
  CorrelatedLogger,
  type CorrelationContext,
  createCorrelatedLogger,
  generateSpanId,
  generateTraceId,
  getCorrelationContext,
  isCorrelatedLogger,
} from "./log_correlation.ts";
export type { LogLevel } from "./log_level.ts";
export {
  getMemoryUsage,
  isMemoryMonitoringAvailable,
  type MemoryLimitConfig,
  MemoryMonitor,
  type MemoryUsage,
} from "./memory_monitor.ts";
export {
  PriorityChannel,
  type PriorityChannelOptions,
  type PriorityComparator,
} from "./priority_channel.ts";
export type { ThrottleOptions } from "./throttle.ts";
export { TokenBucket, type TokenBucketCache, type TokenBucketOptions } from "./token_bucket.ts";

// Errors
export {
  AbortError,
  ChannelFullError,
  CircuitOpenError,
  ClientDisconnectedError,
  type GoGoScopeErrorOptions,
  ResponseStreamError,
  ServerClosingError,
  TimeoutError,
  UnknownError,
} from "./errors.ts";

// Types
export type { Logger, Result, TaskContext, TaskFn } from "./types.ts";
