/**
 * The plugin's options and per-route settings (types only; validated in
 * `_settings.ts`).
 *
 * @module
 */
import type { FastifyRequest } from "fastify";
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
   * @deprecated Use `inspector: { path }`: a live page of the same tree with
   * each request's method, route, deadline and tasks, loopback-only by
   * default. `scopeTreeRoute` keeps working (and is unguarded, as before).
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
  /**
   * OpenTelemetry traces (`docs/observability.md`): every task of a request
   * scope or of the root gets a span, named after the task's `name` option,
   * child of the request's span, with its function run while that span is
   * active (spans of instrumented calls inside it nest under it); a request
   * the client leaves ends every span it has. `true` uses the global tracer
   * provider; `{ tracer }` a tracer of yours. Needs `@opentelemetry/api`
   * (an optional peer dependency), loaded only when this is on.
   * @default false
   */
  tracing?: boolean | TracingOptions;
  /**
   * OpenTelemetry metrics (`docs/observability.md`): task durations by
   * outcome and route, request cancellations by reason, live request scopes,
   * circuit breaker state changes. `true` uses the global meter provider (set
   * it before registering the plugin); `{ meter }` a meter of yours.
   * @default false
   */
  metrics?: boolean | MetricsOptions;
  /**
   * The live inspector: an HTML page at `path` showing every running request,
   * its tasks and child scopes, updated through server-sent events. It shows
   * what every request is doing: by default only loopback clients may open
   * it; `authorize` decides otherwise. Supersedes `scopeTreeRoute`.
   * @default undefined (no page)
   */
  inspector?: InspectorOptions;
}

/**
 * An OpenTelemetry `Tracer` (from `@opentelemetry/api`), typed by the one
 * method the plugin needs so that the package's types never require
 * `@opentelemetry/api`.
 *
 * @example
 * ```ts
 * import type { TracerLike } from "@go-go-scope/adapter-fastify";
 *
 * const tracer: TracerLike = { startSpan: () => ({}) };
 * console.log(typeof tracer.startSpan); // function
 * ```
 */
export interface TracerLike {
  /** Starts a span (`Tracer.startSpan`). */
  startSpan(name: string, options?: object, context?: unknown): unknown;
}

/**
 * An OpenTelemetry `Meter` (from `@opentelemetry/api`), typed by the methods
 * the plugin calls.
 *
 * @example
 * ```ts
 * import type { MeterLike } from "@go-go-scope/adapter-fastify";
 *
 * const noop = () => ({ add() {}, record() {} });
 * const meter: MeterLike = { createHistogram: noop, createCounter: noop, createUpDownCounter: noop };
 * console.log(typeof meter.createCounter); // function
 * ```
 */
export interface MeterLike {
  /** Creates a histogram (`Meter.createHistogram`). */
  createHistogram(name: string, options?: object): unknown;
  /** Creates a counter (`Meter.createCounter`). */
  createCounter(name: string, options?: object): unknown;
  /** Creates an up-down counter (`Meter.createUpDownCounter`). */
  createUpDownCounter(name: string, options?: object): unknown;
}

/**
 * The `tracing` option's object form.
 *
 * @example
 * ```ts
 * import type { TracingOptions } from "@go-go-scope/adapter-fastify";
 *
 * const tracing: TracingOptions = {}; // the global tracer provider's tracer
 * console.log(tracing.tracer); // undefined
 * ```
 */
export interface TracingOptions {
  /** The tracer spans are started with. @default the global provider's, named after the package */
  tracer?: TracerLike;
}

/**
 * The `metrics` option's object form.
 *
 * @example
 * ```ts
 * import type { MetricsOptions } from "@go-go-scope/adapter-fastify";
 *
 * const metrics: MetricsOptions = {}; // the global meter provider's meter
 * console.log(metrics.meter); // undefined
 * ```
 */
export interface MetricsOptions {
  /** The meter instruments are created with. @default the global provider's, named after the package */
  meter?: MeterLike;
}

/**
 * Options of the live inspector.
 *
 * @example
 * ```ts
 * import type { InspectorOptions } from "@go-go-scope/adapter-fastify";
 *
 * const inspector: InspectorOptions = {
 *   path: "/_inspector",
 *   authorize: (request) => request.headers["x-ops-token"] === "secret",
 * };
 * console.log(inspector.path); // /_inspector
 * ```
 */
export interface InspectorOptions {
  /** Where the page is served; its event stream is `path + "/events"`. */
  path: string;
  /**
   * Decides who may open the page and its stream (`true`: allowed). Without
   * it, only clients on a loopback address (`request.ip`) may: behind a
   * reverse proxy on the same host, set Fastify's `trustProxy` or this.
   * @default loopback clients only
   */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>;
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
