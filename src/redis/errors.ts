/**
 * The error the Redis adapter reports when Redis cannot be reached in time.
 *
 * @module
 */

/**
 * Redis did not answer within the adapter's `commandTimeout`, or the
 * connection is down. HTTP status 503: the shared state is unavailable, so the
 * caller falls back (a breaker to its local state) or refuses (a lock is not
 * granted).
 *
 * @example
 * ```ts
 * import { RedisUnavailableError } from "@go-go-scope/adapter-fastify/redis";
 *
 * const err = new RedisUnavailableError("SET lock:job", 250);
 * console.log(err.code, err.statusCode); // GGS_ERR_REDIS_UNAVAILABLE 503
 * ```
 */
export class RedisUnavailableError extends Error {
  /** Stable machine-readable code. */
  readonly code: "GGS_ERR_REDIS_UNAVAILABLE" = "GGS_ERR_REDIS_UNAVAILABLE";
  /** HTTP status a Fastify error handler answers with. */
  readonly statusCode: 503 = 503;
  /** Tag equal to the class name, for `switch (err._tag)`. */
  readonly _tag: "RedisUnavailableError" = "RedisUnavailableError";
  /** The operation that failed. */
  readonly operation: string;
  /**
   * Creates the error.
   *
   * @param operation What the adapter was doing (`"acquire lock:job"`).
   * @param timeout The deadline that passed in ms, or `undefined` when the call failed at once.
   */
  constructor(operation: string, timeout: number | undefined, options?: { cause?: unknown }) {
    super(
      timeout === undefined
        ? `Redis call failed: ${operation}`
        : `Redis did not answer within ${timeout} ms: ${operation}`,
      options,
    );
    this.name = "RedisUnavailableError";
    this.operation = operation;
  }
}
