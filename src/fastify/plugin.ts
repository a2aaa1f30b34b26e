/// <reference types="./fastify_types.d.ts" preserve="true" />
/**
 * The Fastify plugin: a root scope on the instance and a child scope on every
 * request, cancelled when the client leaves and disposed when the response
 * ends.
 *
 * @module
 */
import type {
  DoneFuncWithErrOrRes,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from "fastify";
import fp from "fastify-plugin";
import { type Scope, scope } from "../core/mod.ts";
import { longLivedKind, LongLivedRoutes } from "./_long_lived.ts";
import { checkTraceOptions, serveScopeTree } from "./trace.ts";
import {
  closeAfterResponse,
  isNodeStream,
  isWebStream,
  kReply,
  kScope,
  kSettings,
  type ScopedRequest,
  watchStream,
  watchWebStream,
} from "./_response.ts";
import {
  adoptReply,
  assignScope,
  type RequestScopeSettings,
  startScope,
  startsNow,
} from "./_request_scope.ts";
import type { FastifyGoGoScopeOptions } from "./options.ts";
import {
  alreadyRegistered,
  kRouteSettings,
  NO_SETTINGS,
  PLUGIN,
  type RouteConfig,
  type RouteSettings,
  routeSettings,
  settingsOf,
  validateOptions,
  validSettings,
} from "./_settings.ts";

export type { FastifyGoGoScopeOptions, RouteScopeOptions } from "./options.ts";

type ScopeOptions = NonNullable<Parameters<typeof scope>[0]>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;
type OnRequestHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

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

  if (fastify.hasDecorator("scope") || fastify.hasRequestDecorator("scope")) {
    throw alreadyRegistered();
  }
  const rootOptions: Mutable<ScopeOptions> = { name, logger: fastify.log };
  if (breaker !== undefined) rootOptions.circuitBreaker = breaker;
  // Validated by scope(), at registration.
  const persistence = options.persistence;
  if (persistence !== undefined) rootOptions.persistence = persistence;
  const root = scope(rootOptions);
  const settings: RequestScopeSettings = { root, timeout, concurrency, traceparent };

  fastify.decorate("scope", root);
  // During app.close(), Node's server closes the sockets that are idle when
  // close() starts, not those that become idle later: a keep-alive client
  // whose request was in flight would hold close() until keepAliveTimeout.
  // Responses sent while closing say `Connection: close` (see onSend).
  let closing = false;
  fastify.addHook("preClose", (done: HookHandlerDoneFunction) => {
    closing = true;
    done();
  });
  // The request scope, its reply and its route's settings live in symbol
  // fields, declared as null so every request object keeps one shape;
  // `request.scope` is an accessor over the first. Without a deadline or a
  // trace, the scope is created on its first read: a request that never
  // reads it pays no scope, no listener and no disposal.
  fastify.decorateRequest(kScope, null);
  fastify.decorateRequest(kReply, null);
  fastify.decorateRequest(kSettings, null);
  fastify.decorateRequest("scope", {
    getter(this: FastifyRequest): Scope {
      const request = this as ScopedRequest;
      return request[kScope] ??
        startScope(
          settings,
          request,
          request[kReply] ?? undefined,
          request[kSettings] ?? validSettings(request, routesMayHaveSettings),
        );
    },
    setter(this: FastifyRequest, value: Scope): void {
      assignScope(this as ScopedRequest, value);
    },
  });

  // Routes declared before the plugin: onRoute never saw them, so neither
  // their settings nor their handlers; a global onRequest hook covers them.
  const routesBefore = !/^\(empty tree\)\s*$/.test(fastify.printRoutes());
  // Reading a route's settings at request time costs a `request.routeOptions`,
  // which Fastify builds anew on every read (a large share of the plugin's
  // work per request, BENCHMARKS.md): skipped while no route can have
  // settings.
  let routesMayHaveSettings = routesBefore;
  // Where the reply becomes known. A Fastify hook costs every request of
  // every route (on Deno mostly in collecting the closures its runner
  // allocates per request, BENCHMARKS.md), a handler wrapper far less. So: a global onRequest hook only when every
  // request needs one (a plugin-wide deadline or trace, or routes the
  // plugin cannot wrap); otherwise a route-level onRequest hook on routes
  // that create their scope at once (a route deadline, long-lived routes)
  // and a handler wrapper on the others.
  const everyRequest = routesBefore || startsNow(settings, NO_SETTINGS);

  const longLived = new LongLivedRoutes(fastify, connectionTimeout);

  /** onRequest: the scope now where a deadline or trace applies; else the reply, for later. */
  function begin(request: ScopedRequest, reply: FastifyReply, route: RouteSettings): void {
    if (request[kScope] === null && startsNow(settings, route)) {
      startScope(settings, request, reply, route);
    } else if (request[kReply] === null) adoptReply(request, reply);
  }

  fastify.addHook("onRoute", (route: RouteOptions) => {
    const config = route.config as RouteConfig | undefined;
    // Websocket and SSE routes: decided here, once per route (_long_lived.ts).
    const kind = longLivedKind(route);
    let found: RouteSettings = NO_SETTINGS;
    if ((config !== undefined && config.scope !== undefined) || kind !== undefined) {
      routesMayHaveSettings = true;
      const method = Array.isArray(route.method) ? route.method.join(",") : route.method;
      found = routeSettings(config?.scope, `${method} ${route.url}`);
      if (kind !== undefined) {
        found = { ...found, timeout: longLived.route(route, kind, found.timeout) };
      }
      // Fastify copies the config's own properties (symbols included) into
      // the route context, where settingsOf() finds them at request time.
      route.config = { ...config, [kRouteSettings]: found } as NonNullable<RouteOptions["config"]>;
    }
    if (everyRequest) return;
    if (kind !== undefined || startsNow(settings, found)) {
      // Long-lived handlers are replaced by @fastify/websocket and
      // @fastify/sse after this hook: the route's own onRequest is where
      // their reply is seen.
      const hook: OnRequestHook = function routeOnRequest(request, reply, done) {
        begin(request as ScopedRequest, reply, found);
        done();
      };
      const own = route.onRequest;
      route.onRequest = own === undefined ? [hook] : [...(Array.isArray(own) ? own : [own]), hook];
      return;
    }
    const handler = route.handler as Handler;
    route.handler = function scopedHandler(
      this: FastifyInstance,
      request: FastifyRequest,
      reply: FastifyReply,
    ): unknown {
      const scoped = request as ScopedRequest;
      scoped[kSettings] = found;
      if (scoped[kReply] === null) adoptReply(scoped, reply);
      return handler.call(this, request, reply);
    } as RouteOptions["handler"];
  });

  if (everyRequest) {
    fastify.addHook(
      "onRequest",
      function onRequest(
        request: FastifyRequest,
        reply: FastifyReply,
        done: HookHandlerDoneFunction,
      ): void {
        const found = routesMayHaveSettings ? settingsOf(request) : NO_SETTINGS;
        const invalid = found instanceof Error;
        // An onRequest hook of a plugin registered earlier may have read
        // request.scope already (created on that read): it is watched now,
        // so the request has one scope.
        begin(request as ScopedRequest, reply, invalid ? NO_SETTINGS : found);
        done(invalid ? found : undefined);
      },
    );
  }

  // An onRequest hook registered before the plugin threw, or the error came
  // before the handler: the error handler may read request.scope. Runs only
  // on errors.
  fastify.addHook(
    "onError",
    function onError(
      request: FastifyRequest,
      reply: FastifyReply,
      _error: unknown,
      done: () => void,
    ): void {
      const scoped = request as ScopedRequest;
      if (scoped[kReply] === null) adoptReply(scoped, reply);
      done();
    },
  );

  fastify.addHook(
    "onSend",
    function onSend(
      request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
      done: DoneFuncWithErrOrRes,
    ): void {
      // The reply of a request that reached neither an onRequest of ours nor
      // a wrapped handler (an earlier onRequest hook replied, the not-found
      // handler): onSend and onResponse hooks may still read request.scope,
      // and a scope read earlier is watched from here on.
      const scoped = request as ScopedRequest;
      if (scoped[kReply] === null) adoptReply(scoped, reply);
      if (closing) closeAfterResponse(reply);
      if (isNodeStream(payload)) watchStream(payload, request, reply);
      else if (isWebStream(payload)) return done(null, watchWebStream(payload, request, reply));
      done();
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
 * (`request.scope`), usable in every hook and handler Fastify runs for the
 * request, the error handler included. It is created on its first read, so a
 * request that never reads it pays for no scope; where a deadline (the
 * `timeout` option or a route's `config.scope.timeout`) or `traceparent`
 * applies, it is created in `onRequest`, so the deadline counts from the
 * request's arrival.
 *
 * - When the response ends, the request scope is disposed: its tasks'
 *   signals abort, its cleanups run.
 * - When the client leaves first (socket closed, pipelined requests on a
 *   dropped socket, HTTP/2 stream reset, an upload cut short), the scope is
 *   cancelled with a `ClientDisconnectedError` and then disposed, so the
 *   handler's pending work stops. A response stream that fails after the
 *   headers cancels it with a `ResponseStreamError` instead.
 * - `app.close()` disposes the root scope, which aborts background tasks and
 *   any request scope still alive.
 *
 * Register it once, on the root instance: a second registration throws
 * (`GGS_ERR_ALREADY_REGISTERED`). Unknown or invalid options throw at
 * registration (`GGS_ERR_UNKNOWN_OPTION`, `GGS_ERR_INVALID_OPTION`).
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
