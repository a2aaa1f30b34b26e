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

// The scope (scope.ts, its feature methods in scope_features.ts, scope_options.ts) and scope-less
// parallel/race (standalone.ts)
export { Scope, scope } from "./scope.ts";
export type { ScopeFeatures } from "./scope_features.ts";
export type { ScopeOptions } from "./scope_options.ts";
export { parallel, race } from "./standalone.ts";

// base/: errors, shared types, log levels, cancellation helpers, what features need of a scope
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
export type {
  CheckpointContext,
  Logger,
  ProgressContext,
  Result,
  TaskContext,
  TaskFn,
} from "./base/types.ts";
export type { LogLevel } from "./base/log_level.ts";
export { abortPromise, onAbort, whenAborted } from "./base/cancellation.ts";
export type { ScopeLike } from "./base/scope_like.ts";

// persistence/: provider interfaces, in-memory providers, scope persistence, locks, checkpoints
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
export { createLock, Lock } from "./persistence/lock.ts";
export { LockGuard, type LockStats } from "./persistence/lock_guard.ts";
export type { LockAcquireOptions, LockOptions } from "./persistence/lock_options.ts";
export { InMemoryLockProvider } from "./persistence/in_memory_lock_provider.ts";
export { createCache, InMemoryCache, type InMemoryCacheOptions } from "./persistence/cache.ts";
export {
  type CheckpointOptions,
  type CheckpointState,
  createCheckpointContext,
  createProgressContext,
  InMemoryCheckpointProvider,
  type ResumeTaskOptions,
} from "./persistence/checkpoint.ts";

// resilience/: circuit breaker, retry, idempotency, memo, semaphore
export type { ScopeIdempotencyOptions } from "./resilience/scope_idempotency.ts";
export { CircuitBreaker } from "./resilience/circuit_breaker.ts";
export type {
  CircuitBreakerAdvancedOptions,
  CircuitBreakerEvent,
  CircuitBreakerEventHandler,
  CircuitBreakerEvents,
  CircuitBreakerHooks,
  CircuitBreakerOptions,
  CircuitState,
} from "./resilience/circuit_breaker_options.ts";
export type { RetryOption, RetryOptions, RetryPreset } from "./resilience/retry.ts";
export {
  createIdempotencyProvider,
  type IdempotencyOptions,
  InMemoryIdempotencyProvider,
  type InMemoryIdempotencyProviderOptions,
} from "./resilience/idempotency.ts";
export { InMemoryMemoStore, type MemoStore } from "./resilience/memo.ts";
export { Semaphore } from "./resilience/semaphore.ts";

// kernel/: tasks and their options, parallel/race/any, services
export { Task } from "./kernel/task.ts";
export type { TaskOptions } from "./kernel/task_options.ts";
export type { ErrorClass, MemoOptions } from "./kernel/task_extras.ts";
export type { Factory, ParallelOptions, Values } from "./kernel/parallel.ts";
export type { RaceOptions } from "./kernel/race.ts";
export type { NoServices, OverrideOptions, ProvideOptions, ServiceMap } from "./kernel/services.ts";

// channels/: channel, broadcast, priority channel, select
export { Channel } from "./channels/channel.ts";
export type {
  Backpressure,
  BackpressureStrategy,
  ChannelOptions,
} from "./channels/channel_options.ts";
export { BroadcastChannel } from "./channels/broadcast.ts";
export {
  PriorityChannel,
  type PriorityChannelOptions,
  type PriorityComparator,
} from "./channels/priority_channel.ts";
export type { SelectHandler, SelectOptions } from "./channels/select.ts";

// timing/: poll, batch, debounce, throttle, token bucket
export {
  poll,
  type PollContext,
  type PollController,
  type PollOptions,
  type PollStatus,
} from "./timing/poll.ts";
export { Batch, type BatchOptions } from "./timing/batch.ts";
export type { DebounceOptions } from "./timing/debounce.ts";
export type { ThrottleOptions } from "./timing/throttle.ts";
export {
  TokenBucket,
  type TokenBucketCache,
  type TokenBucketOptions,
} from "./timing/token_bucket.ts";

// observability/: debug tree, log correlation, memory monitor, performance, events, hooks
export type { DebugTreeOptions } from "./observability/debug_tree.ts";
export {
  CorrelatedLogger,
  type CorrelationContext,
  createCorrelatedLogger,
  generateSpanId,
  generateTraceId,
  getCorrelationContext,
  isCorrelatedLogger,
} from "./observability/log_correlation.ts";
export {
  getMemoryUsage,
  isMemoryMonitoringAvailable,
  type MemoryLimitConfig,
  MemoryMonitor,
  type MemoryUsage,
} from "./observability/memory_monitor.ts";
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
export {
  createEventEmitter,
  type EventHandler,
  type EventMap,
  ScopedEventEmitter,
} from "./observability/event_emitter.ts";
export type { ScopeHooks } from "./observability/hooks.ts";

// lifecycle/: graceful shutdown, disposable resources
export {
  GracefulShutdownController,
  type GracefulShutdownOptions,
  type SignalSource,
} from "./lifecycle/graceful_shutdown.ts";
export { AsyncDisposableResource } from "./lifecycle/resource.ts";
