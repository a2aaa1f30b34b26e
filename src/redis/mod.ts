/**
 * Redis persistence for `@go-go-scope/adapter-fastify`: `RedisAdapter` shares
 * locks, circuit-breaker state, idempotency results, caches and checkpoints
 * between processes. Needs `ioredis` (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { RedisAdapter, RedisUnavailableError } from "@go-go-scope/adapter-fastify/redis";
 *
 * console.log(typeof RedisAdapter, new RedisUnavailableError("GET x", 1).code);
 * ```
 *
 * @module
 */
export {
  RedisAdapter,
  type RedisAdapterOptions,
  RedisCacheProvider,
  RedisCheckpointProvider,
  RedisCircuitBreakerStateProvider,
  type RedisClient,
  RedisIdempotencyProvider,
  RedisLockProvider,
} from "./redis_adapter.ts";
export { RedisUnavailableError } from "./errors.ts";
export type {
  CacheProvider,
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
} from "../core/mod.ts";
