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
export { Task, type TaskOptions } from "./kernel/task.ts";
export type { Factory, ParallelOptions, RaceOptions, Values } from "./kernel/parallel.ts";
export type { RetryOption, RetryOptions, RetryPreset } from "./resilience/retry.ts";

// Channels
export { type Backpressure, Channel, type ChannelOptions } from "./channels/channel.ts";

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
} from "./resilience/circuit_breaker.ts";

// ---- parity 1: context and services (scope-core) ----
export type { NoServices, OverrideOptions, ProvideOptions, ServiceMap } from "./kernel/services.ts";
export type { ErrorClass, MemoOptions } from "./kernel/task_extras.ts";
export { InMemoryMemoStore, type MemoStore } from "./resilience/memo.ts";

// ---- parity 1: cancellation and scheduling (schedule) ----
export { abortPromise, onAbort, whenAborted } from "./base/cancellation.ts";
export {
  poll,
  type PollContext,
  type PollController,
  type PollOptions,
  type PollStatus,
} from "./timing/poll.ts";
export { Semaphore } from "./resilience/semaphore.ts";
export { parallel, race } from "./standalone.ts";
export { AsyncDisposableResource } from "./lifecycle/resource.ts";
export {
  benchmark,
  type BenchmarkOptions,
  type BenchmarkResult,
  MemoryTracker,
} from "./observability/performance.ts";
export {
  type MonitoredScope,
  type PerformanceMetrics,
  PerformanceMonitor,
  performanceMonitor,
  type PerformanceMonitorOptions,
  type PerformanceSnapshot,
  type Trend,
} from "./observability/performance_monitor.ts";

// ---- parity 1: channels, broadcast, select (channels) ----
export type { BackpressureStrategy } from "./channels/channel.ts";
export { BroadcastChannel } from "./channels/broadcast.ts";
export type { SelectHandler, SelectOptions } from "./channels/select.ts";

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
} from "./persistence/persistence.ts";
export {
  getPersistence,
  type PersistenceNode,
  type PersistenceOption,
  resolvePersistence,
} from "./persistence/scope_persistence.ts";
export {
  createLock,
  Lock,
  type LockAcquireOptions,
  LockGuard,
  type LockOptions,
  type LockStats,
} from "./persistence/lock.ts";
export { InMemoryLockProvider } from "./persistence/in_memory_lock_provider.ts";
export { createCache, InMemoryCache, type InMemoryCacheOptions } from "./persistence/cache.ts";
export {
  createIdempotencyProvider,
  type IdempotencyOptions,
  InMemoryIdempotencyProvider,
  type InMemoryIdempotencyProviderOptions,
} from "./resilience/idempotency.ts";
export {
  type CheckpointContext,
  type CheckpointOptions,
  createProgressContext,
  InMemoryCheckpointProvider,
  type ProgressContext,
  type ResumeTaskOptions,
} from "./persistence/checkpoint.ts";

// ---- parity 2: rate limiting, timing, events, diagnostics (primitives) ----
export { Batch, type BatchOptions } from "./timing/batch.ts";
export type { DebounceOptions } from "./timing/debounce.ts";
export type { DebugTreeOptions } from "./observability/debug_tree.ts";
export {
  createEventEmitter,
  type EventHandler,
  type EventMap,
  ScopedEventEmitter,
} from "./observability/event_emitter.ts";
export {
  GracefulShutdownController,
  type GracefulShutdownOptions,
  type SignalSource,
} from "./lifecycle/graceful_shutdown.ts";
export type { ScopeHooks } from "./observability/hooks.ts";
export {
  CorrelatedLogger,
  type CorrelationContext,
  createCorrelatedLogger,
  generateSpanId,
  generateTraceId,
  getCorrelationContext,
  isCorrelatedLogger,
} from "./observability/log_correlation.ts";
export type { LogLevel } from "./base/log_level.ts";
export {
  getMemoryUsage,
  isMemoryMonitoringAvailable,
  type MemoryLimitConfig,
  MemoryMonitor,
  type MemoryUsage,
} from "./observability/memory_monitor.ts";
export {
  PriorityChannel,
  type PriorityChannelOptions,
  type PriorityComparator,
} from "./channels/priority_channel.ts";
export type { ThrottleOptions } from "./timing/throttle.ts";
export {
  TokenBucket,
  type TokenBucketCache,
  type TokenBucketOptions,
} from "./timing/token_bucket.ts";

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
} from "./base/errors.ts";

// Types
export type { Logger, Result, TaskContext, TaskFn } from "./base/types.ts";
