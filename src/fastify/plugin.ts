/// <reference types="./fastify_types.d.ts" preserve="true" />
/**
 * The Fastify plugin: a root scope on the instance and a child scope on every
 * request, cancelled when the client leaves and disposed when the response
 * ends.
 *
 * @module
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from "fastify";
import fp from "fastify-plugin";
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  ClientDisconnectedError,
  Scope,
  scope,
} from "../core/mod.ts";
import { childScope, disposeScope } from "../core/_child_scope.ts";
import type { PersistenceOption } from "../core/scope_persistence.ts";
import { longLivedKind, LongLivedRoutes } from "./_long_lived.ts";
import {
  checkBreaker,
  checkConcurrency,
  checkName,
  checkObject,
  checkTimeout,
} from "./_validate.ts";
import { adoptRequestTrace, checkTraceOptions, serveScopeTree, startTrace } from "./trace.ts";

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
   * override it with `config.scope.circuitBreaker`.
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
   * `{ lock, circuitBreaker, idempotency, cache, checkpoint }`. Set on the root
   * scope, so every request scope uses it. A `circuitBreaker` with a `key`
   * shares its state through it. `app.close()` closes only what the adapter
   * opened itself (its subscriber connection), never your Redis client.
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
   * @default the plugin's `timeout`; on websocket and SSE routes, the plugin's `connectionTimeout`
   */
  timeout?: number | false;
  /**
   * The breaker this route's tasks go through, or `false` for none.
   * @default the plugin's `circuitBreaker`
   */
  circuitBreaker?: CircuitBreaker | false;
}

const PLUGIN = "fastifyGoGoScope";

/** Per-route settings, validated once and cached on the route's config object. */
interface RouteSettings {
  readonly timeout: number | false | undefined;
  readonly circuitBreaker: CircuitBreaker | false | undefined;
}

const NO_SETTINGS: RouteSettings = Object.freeze({ timeout: undefined, circuitBreaker: undefined });
const kRouteSettings: unique symbol = Symbol("go-go-scope.routeSettings");

type RouteConfig = { scope?: unknown; [kRouteSettings]?: RouteSettings | Error };
type ScopeOptions = NonNullable<Parameters<typeof scope>[0]>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The part of `reply.raw` (HTTP/1 or HTTP/2) the plugin touches. */
interface RawReply {
  readonly writableEnded: boolean;
  readonly destroyed?: boolean;
  on(event: "close", listener: () => void): unknown;
}

function routeSettings(value: unknown, route: string): RouteSettings {
  if (value === undefined) return NO_SETTINGS;
  const where = `${PLUGIN}: route ${route}`;
  checkObject(where, "config.scope", value);
  const { timeout, circuitBreaker } = value as Record<string, unknown>;
  return {
    timeout: checkTimeout(where, "config.scope.timeout", timeout, true),
    circuitBreaker: checkBreaker(where, "config.scope.circuitBreaker", circuitBreaker, false, true),
  };
}

/**
 * Settings of the route serving `request`, computed once per route. A route
 * declared before the plugin was registered was never seen by the onRoute
 * hook: its settings are validated here, on its first request, and an invalid
 * value fails each of its requests with the validation error.
 */
function settingsOf(request: FastifyRequest): RouteSettings | Error {
  const config = request.routeOptions.config as RouteConfig;
  const cached = config[kRouteSettings];
  if (cached !== undefined) return cached;
  let settings: RouteSettings | Error;
  try {
    settings = routeSettings(config.scope, `${request.method} ${request.routeOptions.url}`);
  } catch (error) {
    settings = error as Error;
  }
  config[kRouteSettings] = settings;
  return settings;
}

/**
 * Ends the request scope when `reply.raw` closes: cancels it first if the
 * response did not end (the client left), then disposes it. The state lives in
 * this listener's closure, not on `reply.raw`: properties added to Node's
 * response objects would give them a second hidden class that Node's own
 * response code then has to handle.
 */
function closeListener(raw: RawReply, request: FastifyRequest, own: Scope): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const ended = raw.writableEnded;
    endScope(own, request, ended);
    // A hook may have replaced request.scope with a scope of its own (the
    // pattern the go-go-scope docs show): it ends with the response too.
    const current: unknown = request.scope;
    if (current !== own && current instanceof Scope) endScope(current, request, ended);
  };
}

function endScope(requestScope: Scope, request: FastifyRequest, ended: boolean): void {
  if (requestScope.isDisposed) return; // the root's disposal got there first
  if (!ended && !requestScope.isAborted) {
    requestScope.cancel(
      new ClientDisconnectedError(
        `Client disconnected before the response ended (request ${request.id})`,
      ),
    );
  }
  // Usually finishes synchronously; only cleanups or children make it async.
  disposeScope(requestScope)?.catch((error: unknown) => {
    request.log.error({ err: error }, "go-go-scope: disposing the request scope failed");
  });
}

function validateOptions(options: FastifyGoGoScopeOptions): {
  name: string;
  timeout: number | undefined;
  breaker: CircuitBreaker | undefined;
  concurrency: number | undefined;
  connectionTimeout: number | undefined;
} {
  checkObject(PLUGIN, "options", options);
  const { name = "fastify-app", timeout, circuitBreaker, concurrency, connectionTimeout } =
    options as Record<
      string,
      unknown
    >;
  return {
    name: checkName(PLUGIN, "name", name) ?? "fastify-app",
    timeout: checkTimeout(PLUGIN, "timeout", timeout, false) || undefined,
    breaker: checkBreaker(PLUGIN, "circuitBreaker", circuitBreaker, true, false) || undefined,
    concurrency: checkConcurrency(PLUGIN, "concurrency", concurrency),
    connectionTimeout: checkTimeout(PLUGIN, "connectionTimeout", connectionTimeout, false) ||
      undefined,
  };
}

const plugin = async (
  fastify: FastifyInstance,
  options: FastifyGoGoScopeOptions,
): Promise<void> => {
  const { name, timeout, breaker, concurrency, connectionTimeout } = validateOptions(options);
  const { traceparent, scopeTreeRoute } = checkTraceOptions(
    PLUGIN,
    options.traceparent,
    options.scopeTreeRoute,
  );

  const rootOptions: Mutable<ScopeOptions> = { name, logger: fastify.log };
  if (breaker !== undefined) rootOptions.circuitBreaker = breaker;
  // Validated by scope(), at registration.
  const persistence = options.persistence;
  if (persistence !== undefined) rootOptions.persistence = persistence;
  const root = scope(rootOptions);

  fastify.decorate("scope", root);
  // Declared as null so every request object keeps one shape; onRequest
  // assigns the real scope before any handler can read it.
  fastify.decorateRequest("scope", null as unknown as Scope);

  // Reading a route's settings costs a `request.routeOptions`, which Fastify
  // builds anew on every read: about a third of the plugin's instructions per
  // request (BENCHMARKS.md).
  // Skip it while no route can have settings: none declared `config.scope`
  // (onRoute sees every route declared after this point), and no route
  // existed before the plugin was registered (onRoute never saw those).
  let routesMayHaveSettings = !/^\(empty tree\)\s*$/.test(fastify.printRoutes());

  const longLived = new LongLivedRoutes(fastify, connectionTimeout);

  fastify.addHook("onRoute", (route: RouteOptions) => {
    const config = route.config as RouteConfig | undefined;
    // Websocket and SSE routes: decided here, once per route (_long_lived.ts).
    const kind = longLivedKind(route);
    if ((config === undefined || config.scope === undefined) && kind === undefined) return;
    routesMayHaveSettings = true;
    const method = Array.isArray(route.method) ? route.method.join(",") : route.method;
    let settings = routeSettings(config?.scope, `${method} ${route.url}`);
    if (kind !== undefined) {
      settings = { ...settings, timeout: longLived.route(route, kind, settings.timeout) };
    }
    // Fastify copies the config's own properties (symbols included) into the
    // route context, where settingsOf() finds them at request time.
    route.config = { ...config, [kRouteSettings]: settings } as NonNullable<RouteOptions["config"]>;
  });

  fastify.addHook(
    "onRequest",
    function onRequest(
      request: FastifyRequest,
      reply: FastifyReply,
      done: HookHandlerDoneFunction,
    ): void {
      const found = routesMayHaveSettings ? settingsOf(request) : NO_SETTINGS;
      const settings = found instanceof Error ? NO_SETTINGS : found;
      const id = request.id;
      const deadline = settings.timeout === undefined ? timeout : settings.timeout;
      const trace = traceparent ? startTrace(request, reply) : undefined;
      // Options were validated at registration (and per route in onRoute):
      // the request scope is built through the internal door, which runs no
      // validator. A route's circuitBreaker false means no breaker, not even
      // the root's.
      const requestScope = childScope(root, {
        name: "request-" + id,
        logger: request.log,
        context: { requestId: id },
        timeout: deadline === false ? undefined : deadline,
        concurrency,
        circuitBreaker: settings.circuitBreaker,
      });
      if (trace !== undefined) adoptRequestTrace(requestScope, trace);
      request.scope = requestScope;
      const raw = reply.raw as unknown as RawReply;
      const onClose = closeListener(raw, request, requestScope);
      raw.on("close", onClose);
      // The client may have left while an earlier async hook ran: then
      // 'close' has already fired and will not fire again.
      if (raw.destroyed === true) onClose();
      done(found instanceof Error ? found : undefined);
    },
  );

  if (scopeTreeRoute !== undefined) serveScopeTree(fastify, root, scopeTreeRoute);

  fastify.addHook("onClose", async (instance: FastifyInstance) => {
    try {
      await root[Symbol.asyncDispose]();
    } catch (error) {
      instance.log.error({ err: error }, "go-go-scope: disposing the root scope failed");
    }
    // Only what the adapter opened itself (a RedisAdapter's subscriber).
    const own = (persistence as Partial<AsyncDisposable> | undefined)?.[Symbol.asyncDispose];
    if (typeof own === "function") {
      try {
        await own.call(persistence);
      } catch (error) {
        instance.log.error({ err: error }, "go-go-scope: closing the persistence adapter failed");
      }
    }
  });
};

/**
 * The Fastify plugin. Registers a root scope on the instance
 * (`fastify.scope`) and gives every request its own child scope
 * (`request.scope`), created in `onRequest` and usable in every later hook,
 * the handler, the not-found handler and the error handler.
 *
 * - When the response ends, the request scope is disposed: its tasks'
 *   signals abort, its cleanups run.
 * - When the client leaves first (socket closed, HTTP/2 stream reset), the
 *   scope is cancelled with a `ClientDisconnectedError` and then disposed, so
 *   the handler's pending work stops.
 * - `app.close()` disposes the root scope, which aborts background tasks and
 *   any request scope still alive.
 *
 * Register it before hooks that use `request.scope`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope, { name: "my-api", timeout: 30_000 });
 * app.get("/hello", async (request) => {
 *   const [err, greeting] = await request.scope.task(() => "hello");
 *   if (err) throw err;
 *   return { greeting };
 * });
 * const response = await app.inject("/hello");
 * console.log(response.json()); // { greeting: "hello" }
 * await app.close();
 * ```
 */
export const fastifyGoGoScope: FastifyPluginAsync<FastifyGoGoScopeOptions> = fp(plugin, {
  fastify: "5.x",
  name: "@go-go-scope/adapter-fastify",
});

export default fastifyGoGoScope;
