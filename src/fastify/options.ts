/**
 * The plugin's options and per-route settings (types only; validated in
 * `_settings.ts`).
 *
 * @module
 */
import type { CircuitBreaker, CircuitBreakerOptions } from "../core/mod.ts";
import type { PersistenceOption } from "../core/mod.ts";

/**
 * Options of {@linkcode fastifyGoGoScope}. Every field is optional and
 * validated when the plugin is registered.
 *
 * @example
 * ```ts
 * import type { FastifyGoGoScopeOptions } from "@go-go-scope/adapter-fastify";
 *
 * const options: FastifyGoGoScopeOptions = { name: "my-api", timeout: 30_000 };
 * console.log(options.name); // my-api
 * ```
 */
export interface FastifyGoGoScopeOptions {
  /**
   * The root scope's name (`fastify.scope.name`).
   * @default "fastify-app"
   */
  name?: string;
  /**
   * Milliseconds every request scope may live. When it passes, the request
   * scope aborts with a `TimeoutError` (status 504): its tasks' signals abort
   * and pending `task()` calls resolve to `[TimeoutError, undefined]`. The
   * plugin does not reply by itself. A route can override it with
   * `config.scope.timeout`. No timer exists when omitted.
   * @default undefined (no deadline)
   */
  timeout?: number;
  /**
   * One circuit breaker shared by the root scope and every request scope: a
   * `CircuitBreaker` instance, or its options (a breaker is created once at
   * registration). Every `task()` goes through it, so after
   * `failureThreshold` failing calls, later requests fail fast with
   * `CircuitOpenError` (503) without calling the dependency. A route can
   * override it with `config.scope.circuitBreaker`. With a `persistence` that
   * can hold breaker state, the breaker is shared by every process using it:
   * given as options without a `key`, it gets the plugin's `name` as its key;
   * a `CircuitBreaker` instance must have a `key` (registration fails
   * otherwise).
   * @default undefined (no breaker)
   */
  circuitBreaker?: CircuitBreaker | CircuitBreakerOptions;
  /**
   * Per-request limit on concurrently running tasks (an integer >= 1); the
   * others wait their turn in order.
   * @default undefined (no limit)
   */
  concurrency?: number;
  /**
   * Continue an incoming W3C `traceparent` header: the request scope's
   * `traceId` is the header's, it gets a new `spanId`, and both are bound to
   * `request.log`, so one request's logs carry one trace id across services.
   * @default false
   */
  traceparent?: boolean;
  /**
   * Serve the live scope tree (`fastify.scope.debugTree()`) as text at this
   * path, e.g. `"/_scope/tree"` (`?format=mermaid` for a diagram). Sensitive:
   * it shows request ids and what each request is running; expose it only
   * to operators (bind it to an internal port or guard it with an auth hook).
   * @default undefined (no route)
   */
  scopeTreeRoute?: string;
  /**
   * Where locks, keyed circuit breakers, idempotency results, caches and
   * checkpoints keep their state: a `RedisAdapter` (from
   * `@go-go-scope/adapter-fastify/redis`) to share it between processes, or
   * `{ lock, circuitBreaker, idempotency, cache, checkpoint }`. go-go-scope's
   * own persistence adapters work as they are (docs/persistence_adapters.md).
   * Set on the root scope, so every request scope uses it. The plugin's
   * `circuitBreaker` shares its state through it. An adapter with
   * `connect()` is connected at registration, which fails if it cannot
   * connect. `app.close()` closes only what the adapter opened itself (a
   * RedisAdapter's subscriber connection), never your client or pool.
   * @default undefined (in-memory, per process)
   */
  persistence?: PersistenceOption;
  /**
   * Milliseconds a long-lived connection may live: a websocket route
   * (`{ websocket: true }`, @fastify/websocket) or a server-sent events route
   * (`{ sse: ... }`, @fastify/sse). Such routes never get the plugin's
   * `timeout`; when it passes, the connection's scope aborts with a
   * `TimeoutError` (and `socketChannel` closes its socket). A route's
   * `config.scope.timeout` overrides it.
   * @default undefined (no deadline)
   */
  connectionTimeout?: number;
  /**
   * Bounds the drain of `app.close()`: once close starts, requests still in
   * flight get this many milliseconds to finish; then their scopes (and the
   * root's background tasks) are cancelled with a `ServerClosingError`
   * (`GGS_ERR_SERVER_CLOSING`, 503), which a handler can tell apart from a
   * client that left (`ClientDisconnectedError`). Long-lived routes
   * (websocket, SSE) are told at once, when close starts, so their clients
   * can reconnect elsewhere. Without it, close waits for every in-flight
   * request, as Fastify does.
   * @default undefined (no bound)
   */
  shutdownTimeout?: number;
  /**
   * While `app.close()` drains, responses to requests that were in flight
   * when it started carry `Connection: close` (HTTP/1), so their keep-alive
   * sockets close after the response and close() does not wait for
   * `keepAliveTimeout`. With `false`, Fastify's own behaviour: such a socket
   * stays open, and the client's next request on it gets Fastify's 503 (with
   * `return503OnClosing`) or the connection is closed when the server ends.
   * @default true
   */
  connectionCloseOnShutdown?: boolean;
}

/**
 * Per-route settings, under `config.scope` in a route's options.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope, { timeout: 5_000 });
 * // A long-lived stream: no deadline for this route.
 * app.get("/events", { config: { scope: { timeout: false } } }, async () => "ok");
 * await app.close();
 * ```
 */
export interface RouteScopeOptions {
  /**
   * Milliseconds the request scope may live on this route, or `false` for no
   * deadline (long-lived streams).
   * @default the plugin's `timeout`
   */
  timeout?: number | false;
  /**
   * The breaker this route's tasks go through, or `false` for none.
   * @default the plugin's `circuitBreaker`
   */
  circuitBreaker?: CircuitBreaker | false;
}
