/**
 * `RedisAdapter`: go-go-scope's persistence adapter over an ioredis client,
 * so that locks, circuit-breaker state, idempotency results, caches and
 * checkpoints are shared by every process on the same Redis.
 *
 * @module
 */
import type {
  CacheProvider,
  CircuitBreakerPersistedState,
  CircuitBreakerStateProvider,
  LockHandle,
  LockMode,
  LockProvider,
  PersistenceAdapter,
  PersistenceAdapterOptions,
} from "../core/mod.ts";
import { assertKnownKeys, assertMs, assertObject, assertString, fail } from "../core/internal.ts";
import type { RedisClient } from "./_client.ts";
import { Connection } from "./_connection.ts";
import { RedisLockProvider } from "./_locks.ts";
import { RedisCircuitBreakerStateProvider } from "./_breaker_state.ts";
import {
  RedisCacheProvider,
  RedisCheckpointProvider,
  RedisIdempotencyProvider,
} from "./_stores.ts";

export type { RedisClient };
export {
  RedisCacheProvider,
  RedisCheckpointProvider,
  RedisCircuitBreakerStateProvider,
  RedisIdempotencyProvider,
  RedisLockProvider,
};

/** Options of {@linkcode RedisAdapter}. */
export interface RedisAdapterOptions extends PersistenceAdapterOptions {
  /**
   * Deadline of every Redis call in ms. A call that does not answer in time
   * fails with `RedisUnavailableError`, so a slow or unreachable Redis never
   * holds a request: breakers fall back to their local state, locks are not
   * granted.
   * @default 500
   */
  commandTimeout?: number;
}

const WHAT = "Cannot create Redis adapter";
const KNOWN = ["keyPrefix", "defaultLockTTL", "commandTimeout"] as const;
const CLIENT_METHODS = ["call", "subscribe", "duplicate", "quit", "on"] as const;

/**
 * Shares go-go-scope's state through Redis. Pass it as the scope option (or
 * the Fastify plugin option) `persistence`; each feature is also a property
 * (`adapter.lock`, `adapter.circuitBreaker`, `adapter.idempotency`,
 * `adapter.cache`, `adapter.checkpoint`), and the adapter itself is a
 * `LockProvider`, `CircuitBreakerStateProvider` and `CacheProvider` as
 * go-go-scope's is.
 *
 * The client stays yours: `disconnect()` closes it, while
 * `[Symbol.asyncDispose]()` (what the Fastify plugin calls on `app.close()`)
 * closes only the subscriber connection the adapter opened itself.
 *
 * @example
 * ```ts
 * import type { Redis } from "ioredis";
 * import { RedisAdapter } from "@go-go-scope/adapter-fastify/redis";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * // With `new Redis("redis://127.0.0.1:6379")`:
 * export async function nightlyReport(redis: Redis): Promise<void> {
 *   const adapter = new RedisAdapter(redis, { keyPrefix: "my-api:" });
 *   await using s = scope({ persistence: adapter });
 *   // One process at a time across the fleet.
 *   const guard = await s.acquireLock({ key: "nightly-report", ttl: 60_000 }).acquire();
 *   try {
 *     // ... build the report ...
 *   } finally {
 *     await guard.release();
 *     await adapter[Symbol.asyncDispose]();
 *   }
 * }
 * ```
 */
export class RedisAdapter
  implements PersistenceAdapter, LockProvider, CircuitBreakerStateProvider, CacheProvider {
  /** Distributed locks. */
  readonly lock: RedisLockProvider;
  /** Shared circuit-breaker state, with pub/sub. */
  readonly circuitBreaker: RedisCircuitBreakerStateProvider;
  /** Results of idempotent tasks. */
  readonly idempotency: RedisIdempotencyProvider;
  /** A shared cache. */
  readonly cache: RedisCacheProvider;
  /** Checkpoints of long-running tasks. */
  readonly checkpoint: RedisCheckpointProvider;
  /** `acquire` honours `mode: "shared"`. */
  readonly supportsSharedMode: true = true;
  readonly #conn: Connection;

  /**
   * Wraps `client`; nothing is sent to Redis until a feature is used.
   *
   * @param client An ioredis client (`new Redis(url)`); the adapter never closes it unless you
   * call `disconnect()`.
   * @param options `keyPrefix`, `commandTimeout`, `defaultLockTTL`.
   * @throws {TypeError | RangeError} When the client or an option is invalid.
   */
  constructor(client: RedisClient, options: RedisAdapterOptions = {}) {
    const c = client as unknown as Record<string, unknown> | null;
    if (
      typeof c !== "object" || c === null || CLIENT_METHODS.some((m) => typeof c[m] !== "function")
    ) {
      fail(WHAT, "client", "an ioredis client (new Redis(url))", client, false);
    }
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { keyPrefix = "", commandTimeout = 500, defaultLockTTL } = options;
    assertString(WHAT, "keyPrefix", keyPrefix);
    assertMs(WHAT, "commandTimeout", commandTimeout);
    if (defaultLockTTL !== undefined) assertMs(WHAT, "defaultLockTTL", defaultLockTTL);
    this.#conn = new Connection(client, keyPrefix, commandTimeout);
    this.lock = new RedisLockProvider(this.#conn);
    this.circuitBreaker = new RedisCircuitBreakerStateProvider(this.#conn);
    this.idempotency = new RedisIdempotencyProvider(this.#conn);
    this.cache = new RedisCacheProvider(this.#conn);
    this.checkpoint = new RedisCheckpointProvider(this.#conn);
  }

  /** The prefix of every key this adapter writes. */
  get keyPrefix(): string {
    return this.#conn.prefix;
  }

  // LockProvider (go-go-scope's adapter is one)
  /** See {@linkcode RedisLockProvider.acquire}. */
  acquire(key: string, ttl: number, owner?: string, mode?: LockMode): Promise<LockHandle | null> {
    return this.lock.acquire(key, ttl, owner, mode);
  }
  /** See {@linkcode RedisLockProvider.extend}. */
  extend(key: string, ttl: number, owner: string): Promise<boolean> {
    return this.lock.extend(key, ttl, owner);
  }
  /** See {@linkcode RedisLockProvider.forceRelease}. */
  forceRelease(key: string): Promise<void> {
    return this.lock.forceRelease(key);
  }

  // CircuitBreakerStateProvider
  /** See {@linkcode RedisCircuitBreakerStateProvider.getState}. */
  getState(key: string): Promise<CircuitBreakerPersistedState | null> {
    return this.circuitBreaker.getState(key);
  }
  /** See {@linkcode RedisCircuitBreakerStateProvider.setState}. */
  setState(key: string, state: CircuitBreakerPersistedState): Promise<void> {
    return this.circuitBreaker.setState(key, state);
  }
  /** See {@linkcode RedisCircuitBreakerStateProvider.recordFailure}. */
  recordFailure(key: string, maxFailures: number): Promise<number> {
    return this.circuitBreaker.recordFailure(key, maxFailures);
  }
  /** See {@linkcode RedisCircuitBreakerStateProvider.recordSuccess}. */
  recordSuccess(key: string): Promise<void> {
    return this.circuitBreaker.recordSuccess(key);
  }
  /** See {@linkcode RedisCircuitBreakerStateProvider.subscribe}. */
  subscribe(key: string, callback: (state: CircuitBreakerPersistedState) => void): () => void {
    return this.circuitBreaker.subscribe(key, callback);
  }

  // CacheProvider
  /** See {@linkcode RedisCacheProvider.get}. */
  get<T>(key: string): Promise<T | null> {
    return this.cache.get<T>(key);
  }
  /** See {@linkcode RedisCacheProvider.set}. */
  set<T>(key: string, value: T, ttl?: number): Promise<void> {
    return this.cache.set(key, value, ttl);
  }
  /** See {@linkcode RedisCacheProvider.delete}. */
  delete(key: string): Promise<void> {
    return this.cache.delete(key);
  }
  /** See {@linkcode RedisCacheProvider.has}. */
  has(key: string): Promise<boolean> {
    return this.cache.has(key);
  }
  /** See {@linkcode RedisCacheProvider.clear}. */
  clear(): Promise<void> {
    return this.cache.clear();
  }
  /** See {@linkcode RedisCacheProvider.keys}. */
  keys(pattern?: string): Promise<string[]> {
    return this.cache.keys(pattern);
  }

  /** Connects the client if it was created with `lazyConnect`. */
  async connect(): Promise<void> {
    if (this.#conn.client.status === "wait") await this.#conn.client.connect();
  }

  /** Closes the adapter's subscriber connection and the client. */
  disconnect(): Promise<void> {
    return this.#conn.close(true);
  }

  /** Whether the client is connected and ready. */
  isConnected(): boolean {
    return this.#conn.client.status === "ready";
  }

  /** Closes only what the adapter opened itself (its subscriber connection); the client stays open. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#conn.close(false);
  }
}
