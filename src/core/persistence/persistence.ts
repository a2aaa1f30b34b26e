/**
 * The provider interfaces behind locks, breaker state, idempotency, caches and
 * checkpoints, with go-go-scope's names. The core ships an in-memory provider
 * for each; an adapter (Redis, a database, ...) implements the same
 * interfaces so that the state is shared by several processes.
 *
 * Every method is asynchronous and keyed by a string; every stored entry can
 * carry a time-to-live in milliseconds, so an entry left behind by a crashed
 * process expires on its own. Lock calls that change or drop a lock check the
 * owner, so one process cannot release another's lock by mistake (only
 * `forceRelease` may).
 *
 * @example
 * ```ts
 * import { scope, type PersistenceProviders } from "@go-go-scope/adapter-fastify/core";
 * import { InMemoryLockProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const persistence: PersistenceProviders = { lock: new InMemoryLockProvider() };
 * await using s = scope({ persistence });
 * console.log(s.persistence?.lock === persistence.lock); // true
 * ```
 *
 * @module
 */

/** How a lock is held: by one owner, or by any number of owners at once (readers). */
export type LockMode = "exclusive" | "shared";

/**
 * A lock store: the state of every keyed lock. `Lock` calls it when a lock has a
 * `key`; the in-memory one is {@linkcode InMemoryLockProvider}. go-go-scope's
 * persistence adapters are lock stores as they are.
 *
 * `Lock` names its entries as go-go-scope's `Lock` does, so that processes
 * running either share one lock: `lock:exclusive:<key>` for `acquire()`,
 * `lock:write:<key>` for `write()`, and for `read()` `lock:read:<key>:<owner>`
 * (after checking that `lock:write:<key>` is free), or, with a provider whose
 * `supportsSharedMode` is `true`, one shared entry `lock:read:<key>` that a
 * writer also takes exclusively, so that it waits for the readers.
 *
 * Rules an implementation keeps:
 * - `acquire` is atomic: of two concurrent calls for a free key, exactly one
 *   gets a handle. With `supportsSharedMode`, `"shared"` holders coexist with
 *   each other and never with an exclusive one.
 * - An entry expires `ttl` ms after it was acquired or last extended.
 * - `extend` and `release` act only when `owner` holds the lock.
 * - A call may fail (a database deadlock): `Lock` tries again until its
 *   acquire timeout.
 *
 * @example
 * ```ts
 * import { InMemoryLockProvider, type LockProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const locks: LockProvider = new InMemoryLockProvider();
 * const a = await locks.acquire("job:1", 1000, "worker-a");
 * const b = await locks.acquire("job:1", 1000, "worker-b");
 * console.log(a !== null, b); // true null
 * await a?.release();
 * ```
 */
export interface LockProvider {
  /**
   * Tries once to take the lock (never waits).
   *
   * @param key The lock's name; every process using it contends for it.
   * @param ttl Milliseconds until the lock expires unless extended.
   * @param owner Who holds it (for `extend` and `release`). @default a random id
   * @param mode `"exclusive"` (one holder) or `"shared"` (many, no exclusive holder); only
   * passed to a provider whose `supportsSharedMode` is `true`. @default "exclusive"
   * @returns A handle when taken, `null` when held by someone else.
   */
  acquire(key: string, ttl: number, owner?: string, mode?: LockMode): Promise<LockHandle | null>;

  /**
   * `true` when `acquire` honours `mode: "shared"` (ours do). go-go-scope's
   * adapters know only exclusive entries; without this flag read locks use
   * go-go-scope's scheme over them. Optional.
   */
  readonly supportsSharedMode?: boolean;

  /**
   * Resets the lock's time-to-live, if `owner` still holds it.
   *
   * @returns `true` when extended, `false` when expired or held by another owner.
   */
  extend(key: string, ttl: number, owner: string): Promise<boolean>;

  /** Drops the lock whoever holds it (every shared holder too). Use with care. */
  forceRelease(key: string): Promise<void>;

  /**
   * Releases the lock if `owner` holds it (a shared holder drops only its own
   * share). Optional: without it a `LockHandle.release()` is used.
   *
   * @returns `true` when `owner` held it.
   */
  release?(key: string, owner: string): Promise<boolean>;

  /** Whether anyone holds an unexpired lock on `key`. Optional. */
  isLocked?(key: string): Promise<boolean>;

  /**
   * Calls `listener` when the lock on `key` is released (by anyone, in any
   * process that the provider can hear from), so that waiters retry at once
   * instead of at their next poll. Optional: without it waiters poll.
   *
   * @returns A function that removes the listener.
   */
  onRelease?(key: string, listener: () => void): () => void;
}

/** A lock held through a {@linkcode LockProvider}. */
export interface LockHandle {
  /** Releases the lock (only if still held by this handle's owner). */
  release(): Promise<void>;
  /** Resets the time-to-live to `ttl` ms; `false` if the lock was lost. */
  extend(ttl: number): Promise<boolean>;
  /** Whether this handle's owner still holds the lock. */
  isValid(): Promise<boolean>;
}

/** A circuit breaker's state as stored for other processes to read. */
export interface CircuitBreakerPersistedState {
  /** The breaker's state. */
  state: "closed" | "open" | "half-open";
  /** Consecutive failures counted so far. */
  failureCount: number;
  /** When the last failure was recorded (ms since the epoch). */
  lastFailureTime?: number;
  /** When the last success was recorded (ms since the epoch). */
  lastSuccessTime?: number;
}

/**
 * Where a keyed circuit breaker keeps its state, so that every process using
 * the same key sees one breaker. go-go-scope's persistence adapters are
 * state providers as they are.
 *
 * A shared breaker calls it as go-go-scope does: `recordFailure(key,
 * threshold)` once per counted failure (one call at a time per process, so
 * an adapter whose count is a read-modify-write loses none of this process's
 * failures), `recordSuccess(key)` after a success once failures were counted,
 * and never `setState` on its own. It learns of other processes' changes
 * through `subscribe` when the provider has it, otherwise by reading
 * `getState` when it is used (at most once a second).
 *
 * `recordFailure` and `recordSuccess` should be atomic (two processes
 * recording at once both count).
 *
 * @example
 * ```ts
 * import type { CircuitBreakerPersistedState, CircuitBreakerStateProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const states = new Map<string, CircuitBreakerPersistedState>();
 * const provider: CircuitBreakerStateProvider = {
 *   getState: async (key) => states.get(key) ?? null,
 *   setState: async (key, state) => void states.set(key, state),
 *   recordFailure: async (key, maxFailures) => {
 *     const failureCount = (states.get(key)?.failureCount ?? 0) + 1;
 *     states.set(key, { state: failureCount >= maxFailures ? "open" : "closed", failureCount });
 *     return failureCount;
 *   },
 *   recordSuccess: async (key) => void states.set(key, { state: "closed", failureCount: 0 }),
 * };
 * console.log(await provider.recordFailure("payments", 1)); // 1
 * ```
 */
export interface CircuitBreakerStateProvider {
  /** The stored state, or `null` when none was stored. */
  getState(key: string): Promise<CircuitBreakerPersistedState | null>;
  /** Stores `state` (and tells subscribers). */
  setState(key: string, state: CircuitBreakerPersistedState): Promise<void>;
  /**
   * Counts one failure atomically; the state becomes `"open"` once the count
   * reaches `maxFailures`.
   *
   * @returns The new failure count.
   */
  recordFailure(key: string, maxFailures: number): Promise<number>;
  /** Records a success atomically: count back to 0, state `"closed"`. */
  recordSuccess(key: string): Promise<void>;
  /**
   * Calls `callback` whenever any process changes the state of `key`. Optional.
   *
   * @returns A function that unsubscribes.
   */
  subscribe?(key: string, callback: (state: CircuitBreakerPersistedState) => void): () => void;
}

/**
 * A key/value cache with optional time-to-live, shared by whoever holds the
 * provider. The in-memory one is {@linkcode InMemoryCache}.
 *
 * @example
 * ```ts
 * import { type CacheProvider, createCache } from "@go-go-scope/adapter-fastify/core";
 *
 * const cache: CacheProvider = createCache({ maxSize: 10 });
 * await cache.set("user:1", { name: "Ada" }, 60_000);
 * console.log(await cache.get("user:1")); // { name: "Ada" }
 * ```
 */
export interface CacheProvider {
  /** The value under `key`, or `null` when missing or expired. */
  get<T>(key: string): Promise<T | null>;
  /** Stores `value` under `key`, for `ttl` ms if given (else until evicted). */
  set<T>(key: string, value: T, ttl?: number): Promise<void>;
  /** Removes `key`. */
  delete(key: string): Promise<void>;
  /** Whether `key` holds an unexpired value. */
  has(key: string): Promise<boolean>;
  /** Removes every key. */
  clear(): Promise<void>;
  /** The unexpired keys, optionally only those matching a `*` glob `pattern`. */
  keys(pattern?: string): Promise<string[]>;
}

/** Counters of a cache. */
export interface CacheStats {
  /** Reads that found a value. */
  hits: number;
  /** Reads that found nothing. */
  misses: number;
  /** Entries stored now. */
  size: number;
  /** `hits / (hits + misses)`, 0 before any read. */
  hitRatio: number;
}

/**
 * Where the task option `idempotency` keeps successful results, so that a
 * second run with the same key returns the first one's value without running.
 * The in-memory one is {@linkcode InMemoryIdempotencyProvider}.
 *
 * Values must survive the store's encoding (JSON for a networked store).
 *
 * @example
 * ```ts
 * import { createIdempotencyProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const store = createIdempotencyProvider();
 * await store.set("order:42", { charged: true }, 60_000);
 * console.log((await store.get("order:42"))?.value); // { charged: true }
 * ```
 */
export interface IdempotencyProvider {
  /** The stored entry, or `null` when missing or expired. */
  get<T>(key: string): Promise<{ value: T; expiresAt?: number } | null>;
  /** Stores `value` under `key`, for `ttl` ms if given. */
  set<T>(key: string, value: T, ttl?: number): Promise<void>;
  /** Removes `key`. */
  delete(key: string): Promise<void>;
}

/** One saved state of a long-running task. */
export interface Checkpoint<T = unknown> {
  /** Unique id of this checkpoint. */
  id: string;
  /** The task's `id` option. */
  taskId: string;
  /** Increases by one with every checkpoint of the task. */
  sequence: number;
  /** When it was saved (ms since the epoch). */
  timestamp: number;
  /** The task's progress when saved, 0 to 100. */
  progress: number;
  /** What the task saved. */
  data: T;
  /** Estimated milliseconds left, when progress allowed an estimate. */
  estimatedTimeRemaining?: number;
}

/**
 * Where tasks with an `id` save checkpoints, so that `scope.resumeTask(id, fn)`
 * (in this process or another) continues from the latest one. The in-memory
 * one is {@linkcode InMemoryCheckpointProvider}.
 *
 * @example
 * ```ts
 * import { InMemoryCheckpointProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const checkpoints = new InMemoryCheckpointProvider();
 * await checkpoints.save({ id: "a", taskId: "import", sequence: 1, timestamp: Date.now(), progress: 10, data: 100 });
 * console.log((await checkpoints.loadLatest("import"))?.data); // 100
 * ```
 */
export interface CheckpointProvider {
  /** Saves a checkpoint. */
  save<T>(checkpoint: Checkpoint<T>): Promise<void>;
  /** The task's checkpoint with the highest sequence, if any. */
  loadLatest<T>(taskId: string): Promise<Checkpoint<T> | undefined>;
  /** The checkpoint with this `id`, if any. */
  load<T>(checkpointId: string): Promise<Checkpoint<T> | undefined>;
  /** The task's checkpoints, by increasing sequence. */
  list(taskId: string): Promise<Checkpoint<unknown>[]>;
  /** Keeps only the task's `keepCount` most recent checkpoints. */
  cleanup(taskId: string, keepCount: number): Promise<void>;
  /** Deletes every checkpoint of the task. */
  deleteAll(taskId: string): Promise<void>;
}

/**
 * The scope option `persistence` in its explicit form: one provider per
 * feature, each optional. Children inherit their parent's.
 */
export interface PersistenceProviders {
  /** Keyed locks (`scope.acquireLock({ key })`). */
  lock?: LockProvider;
  /** State of keyed circuit breakers. */
  circuitBreaker?: CircuitBreakerStateProvider;
  /** Results of tasks with the `idempotency` option. */
  idempotency?: IdempotencyProvider;
  /** A cache. */
  cache?: CacheProvider;
  /** Checkpoints of tasks with an `id`. */
  checkpoint?: CheckpointProvider;
}

/** Options adapter constructors accept (`new RedisAdapter(client, options)`). */
export interface PersistenceAdapterOptions {
  /** Prepended to every key the adapter writes, so that apps sharing a store do not collide. */
  keyPrefix?: string;
  /** Time-to-live of a lock when the caller gives none, in ms. */
  defaultLockTTL?: number;
}

/**
 * One object that provides several features over one connection (a Redis
 * client, a database pool). Passed as the scope option `persistence`, each
 * feature is found either as a property (`adapter.lock`, `adapter.idempotency`,
 * ...) or, for `lock`, `circuitBreaker`, `cache` and `checkpoint`, as the
 * adapter itself when it has that provider's methods. Idempotency is only read
 * from the `idempotency` property (its `get` differs from a cache's).
 */
export interface PersistenceAdapter extends PersistenceProviders {
  /**
   * Opens the connection (go-go-scope's adapters create their tables here).
   * Called once, before the first call through the adapter (and awaited by
   * the Fastify plugin at registration); a failed connect is tried again by
   * the next call.
   */
  connect?(): Promise<void>;
  /** Closes the connection. */
  disconnect?(): Promise<void>;
  /** Whether the connection is open. */
  isConnected?(): boolean;
}
