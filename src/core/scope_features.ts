/**
 * The scope's feature methods that do not depend on its service map (context,
 * persistence, locks, checkpoints, semaphore, channels, select, timing,
 * observability, lifecycle): `Scope` extends this class, and every method is a
 * one-line delegation that hands the scope to the feature's own file.
 *
 * @module
 */
import type { Result, TaskFn } from "./base/types.ts";
import type { ScopeLike } from "./base/scope_like.ts";
import { getPersistence } from "./persistence/scope_persistence.ts";
import type { PersistenceProviders } from "./persistence/persistence.ts";
import { acquireLock, type Lock } from "./persistence/lock.ts";
import type { LockOptions } from "./persistence/lock_options.ts";
import { resumeTask, type ResumeTaskOptions } from "./persistence/checkpoint.ts";
import { Semaphore } from "./resilience/semaphore.ts";
import {
  scopeIdempotencyOf,
  type ScopeIdempotencyOptions,
} from "./resilience/scope_idempotency.ts";
import type { TaskOptions } from "./kernel/task_options.ts";
import type { TaskOwner } from "./kernel/_owner.ts";
import * as context from "./kernel/context.ts";
import { type Channel, ownedChannel } from "./channels/channel.ts";
import type { ChannelOptions } from "./channels/channel_options.ts";
import { type BroadcastChannel, ownedBroadcast } from "./channels/broadcast.ts";
import {
  select as selectChannels,
  type SelectHandler,
  type SelectOptions,
} from "./channels/select.ts";
import {
  type PriorityChannel,
  priorityChannel,
  type PriorityChannelOptions,
} from "./channels/priority_channel.ts";
import { every } from "./timing/every.ts";
import { type PollController, pollIn, type PollOptions } from "./timing/poll.ts";
import { delay } from "./timing/delay.ts";
import { debounce, type DebounceOptions } from "./timing/debounce.ts";
import { throttle, type ThrottleOptions } from "./timing/throttle.ts";
import { type Batch, batch, type BatchOptions } from "./timing/batch.ts";
import { type TokenBucket, tokenBucket, type TokenBucketOptions } from "./timing/token_bucket.ts";
import { debugTree, type DebugTreeOptions } from "./observability/debug_tree.ts";
import { type EventMap, ScopedEventEmitter } from "./observability/event_emitter.ts";
import { correlationOf, traceIdOf } from "./observability/log_correlation.ts";
import {
  type MemoryUsage,
  memoryUsageOf,
  monitorOf,
  setMemoryLimit,
} from "./observability/memory_monitor.ts";
import {
  type GracefulShutdownController,
  isShutdownRequested,
  shutdownControllerOf,
} from "./lifecycle/graceful_shutdown.ts";

/**
 * `this` in a feature method: the `Scope` that extends this class, which is
 * every shape the features take (`tests/core/scope_features_test.ts` checks
 * that a `Scope` is a `Host`).
 */
export type Host =
  & ScopeLike
  & TaskOwner
  & Parameters<typeof acquireLock>[0]
  & Parameters<typeof resumeTask>[0]
  & Parameters<typeof every>[0]
  & Parameters<typeof pollIn>[0]
  & Parameters<typeof debugTree>[0];

/**
 * The feature methods every `Scope` has (context, persistence, locks,
 * checkpoints, semaphore, channels, select, timing, observability, lifecycle).
 * Not constructed on its own: `Scope` extends it.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ name: "job" });
 * s.setContext("requestId", "r-1");
 * const ch = s.channel<number>(1);
 * await ch.send(1);
 * console.log(s.getContext("requestId"), await ch.receive()); // r-1 1
 * ```
 */
export abstract class ScopeFeatures {
  // ---- kernel/: context ----
  /**
   * Sets a context value for this scope's tasks (`ctx.context`) and its
   * children, shadowing the parent's.
   *
   * @returns This scope, to chain calls.
   * @throws {Error} On a disposed scope.
   */
  setContext(key: string, value: unknown): this {
    context.setContext(this as unknown as Host, key, value);
    return this;
  }

  /** The context value under `key` seen here (set here or above), or `undefined`. */
  getContext<T = unknown>(key: string): T | undefined {
    return context.getContext(this as unknown as Host, key) as T | undefined;
  }

  /** Whether a context value is seen under `key`. */
  hasContext(key: string): boolean {
    return context.hasContext(this as unknown as Host, key);
  }

  /** Removes `key` from this scope's context (the parent keeps its own); true if it was seen. */
  removeContext(key: string): boolean {
    return context.removeContext(this as unknown as Host, key);
  }

  /** A copy of every context value seen here, inherited ones included (changing it changes nothing). */
  getAllContext(): Record<string, unknown> {
    return context.getAllContext(this as unknown as Host);
  }

  /** The context record (go-go-scope's name for it). */
  get requestContext(): Readonly<Record<string, unknown>> {
    return (this as unknown as Host).context;
  }

  /** The scope's name (go-go-scope's other name for `name`). */
  get scopeName(): string {
    return (this as unknown as Host).name;
  }

  // ---- persistence/: providers, locks, checkpoints ----
  /** The persistence providers of this scope (its own option over its parents'), if any. */
  get persistence(): PersistenceProviders | undefined {
    return getPersistence(this as unknown as Host);
  }

  /**
   * Creates a lock tied to this scope: exclusive (`acquire()`), read-write
   * (`allowMultipleReaders`: `read()`/`write()`), local or, with a `key`, held
   * through the scope's `persistence.lock`. Aborting the scope rejects its
   * waiters and releases what it holds.
   */
  acquireLock(options?: LockOptions): Lock {
    return acquireLock(this as unknown as Host, options);
  }

  /**
   * Runs `fn` as the task `taskId` (option `id`): `ctx.checkpoint.data` holds
   * the latest checkpoint a previous unfinished run saved.
   */
  resumeTask<T>(
    taskId: string,
    fn: TaskFn<T>,
    options?: Omit<TaskOptions, "id"> & ResumeTaskOptions,
  ): Promise<Result<Error, T>> {
    return resumeTask(this as unknown as Host, taskId, fn, options as Record<string, unknown>);
  }

  // ---- resilience/ ----
  /** The `idempotency` option in force here (this scope's, else the nearest ancestor's). */
  get idempotency(): Readonly<ScopeIdempotencyOptions> | undefined {
    return scopeIdempotencyOf(this as unknown as Host);
  }

  /**
   * A {@linkcode Semaphore} of `permits` tied to this scope: its waiters are
   * rejected with the scope's abort reason when the scope aborts or is disposed.
   *
   * @throws {TypeError | RangeError} When `permits` is not an integer >= 1.
   */
  semaphore(permits: number): Semaphore {
    return new Semaphore(permits, (this as unknown as Host).signal);
  }

  // ---- channels/ ----
  /**
   * Creates a channel owned by this scope: it closes when the scope aborts.
   *
   * @param options `{ buffer, backpressure, onDrop }` or a capacity number.
   */
  channel<T>(options?: ChannelOptions<T> | number): Channel<T> {
    return ownedChannel(this as unknown as Host, options);
  }

  /** Creates a {@linkcode BroadcastChannel} owned by this scope: it closes when the scope aborts. */
  broadcast<T>(): BroadcastChannel<T> {
    return ownedBroadcast<T>(this as unknown as Host);
  }

  /** A priority channel that rejects its waiters when this scope aborts. See {@linkcode PriorityChannel}. */
  priorityChannel<T>(options: PriorityChannelOptions<T>): PriorityChannel<T> {
    return priorityChannel(this as unknown as Host, options);
  }

  /**
   * Go-style select: waits for the first channel of `cases` with a value and
   * runs its handler (the other channels keep their values). Resolves
   * `[undefined, result]`, or `[err]`: the handler's error, a `TimeoutError`
   * after `options.timeout` ms, the scope's abort reason, or "All channels are
   * closed". @throws {TypeError | RangeError} On a non-Map, empty Map or bad option.
   */
  select<T, R>(
    cases: Map<Channel<T>, SelectHandler<T, R>>,
    options?: SelectOptions,
  ): Promise<Result<Error, R>> {
    return selectChannels(this as unknown as Host, cases, options);
  }

  // ---- timing/ ----
  /**
   * Runs `fn` as a task of this scope now, then `intervalMs` after each run
   * ends, until the returned function is called or the scope aborts. A failed
   * run is logged through the scope's logger; the next one still runs.
   *
   * @returns A function that stops the repetition (idempotent).
   * @throws {TypeError | RangeError} When `intervalMs` is not a positive number or `fn` not a function.
   */
  every(intervalMs: number, fn: TaskFn<unknown>): () => void {
    return every(this as unknown as Host, intervalMs, fn);
  }

  /**
   * Polls `fn` (each call a task of this scope) every `interval` ms and passes
   * each value to `onValue`; stops for good when the scope aborts. See
   * {@linkcode poll} for the options and the controller.
   *
   * @throws {TypeError | RangeError} When an argument or option is invalid.
   * @throws {unknown} The scope's abort reason when it has already aborted.
   */
  poll<T>(
    fn: TaskFn<T>,
    onValue: (value: T) => unknown,
    options?: PollOptions,
  ): PollController {
    return pollIn(this as unknown as Host, fn, onValue, options);
  }

  /** Waits `ms`; rejects with the abort reason when this scope aborts. */
  delay(ms: number): Promise<void> {
    return delay(this as unknown as Host, ms);
  }

  /** `fn` debounced; the timer and waiting calls end with this scope. See `debounce.ts`. */
  debounce<T, Args extends unknown[]>(
    fn: (...args: Args) => T | PromiseLike<T>,
    options?: DebounceOptions | number,
  ): (...args: Args) => Promise<Result<Error, Awaited<T>>> {
    return debounce(this as unknown as Host, fn, options);
  }

  /** `fn` throttled; the timer and waiting calls end with this scope. See `throttle.ts`. */
  throttle<T, Args extends unknown[]>(
    fn: (...args: Args) => T | PromiseLike<T>,
    options?: ThrottleOptions | number,
  ): (...args: Args) => Promise<Result<Error, Awaited<T>>> {
    return throttle(this as unknown as Host, fn, options);
  }

  /** A batcher whose flushes run as tasks of this scope. See {@linkcode Batch}. */
  batch<T, R>(options: BatchOptions<T, R>): Batch<T, R> {
    return batch(this as unknown as Host, options);
  }

  /** A token bucket whose waits end when this scope aborts. See {@linkcode TokenBucket}. */
  tokenBucket(options: TokenBucketOptions): TokenBucket {
    return tokenBucket(this as unknown as Host, options);
  }

  // ---- observability/ ----
  /** The trace id of this scope or its nearest correlated ancestor (`logCorrelation`). */
  get traceId(): string | undefined {
    return traceIdOf(this as unknown as Host);
  }

  /** This scope's span id, when it is correlated (`logCorrelation`). */
  get spanId(): string | undefined {
    return correlationOf(this as unknown as Host)?.spanId;
  }

  /** A typed event emitter whose listeners are removed when this scope is disposed. */
  eventEmitter<Events extends EventMap>(): ScopedEventEmitter<Events> {
    return new ScopedEventEmitter<Events>(this as unknown as Host);
  }

  /** The heap now (against `memoryLimit` when set); `undefined` where the runtime has no figures. */
  memoryUsage(): MemoryUsage | undefined {
    return memoryUsageOf(this as unknown as Host);
  }

  /** True when the `memoryLimit` option started a monitor. */
  get isMemoryMonitoringEnabled(): boolean {
    return monitorOf(this as unknown as Host) !== undefined;
  }

  /** The monitor's limit in bytes, 0 without one. */
  get memoryLimit(): number {
    return monitorOf(this as unknown as Host)?.getLimit() ?? 0;
  }

  /** Changes the monitor's limit. @throws {Error} Without the `memoryLimit` option. */
  setMemoryLimit(limit: number | string): void {
    setMemoryLimit(this as unknown as Host, limit);
  }

  /** The live tree under this scope as ASCII or Mermaid text. See `debug_tree.ts`. */
  debugTree(options?: DebugTreeOptions): string {
    return debugTree(this as unknown as Host, options);
  }

  /** Always `undefined`, as in go-go-scope 2.9.1 (metrics live in its metrics plugin). */
  metrics(): undefined {
    return undefined;
  }

  // ---- lifecycle/ ----
  /** True once the `gracefulShutdown` option's controller began a shutdown. */
  get isShutdownRequested(): boolean {
    return isShutdownRequested(this as unknown as Host);
  }

  /** The controller the `gracefulShutdown` option made (`shutdown()` starts one by hand), if any. */
  get shutdownController(): GracefulShutdownController | undefined {
    return shutdownControllerOf(this as unknown as Host);
  }

  /** go-go-scope's name for {@linkcode ScopeFeatures.shutdownController}. */
  get _shutdownController(): GracefulShutdownController | undefined {
    return shutdownControllerOf(this as unknown as Host);
  }
}
