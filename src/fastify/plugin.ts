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
import { connectPersistence } from "../core/internal.ts";
import { longLivedKind, LongLivedRoutes } from "./_long_lived.ts";
import { checkTraceOptions, serveScopeTree } from "./trace.ts";
import { checkObservabilityOptions, startObservation } from "./_observability.ts";
import { createInspector } from "./inspector/inspector.ts";
import { Shutdown } from "./_shutdown.ts";
import {
  closeAfterResponse,
  kState,
  RequestState,
  type ScopedRequest,
  sendOther,
  stateOf,
} from "./_response.ts";
import {
  adoptInto,
  adoptReply,
  assignScope,
  knowsReply,
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

export type {
  FastifyGoGoScopeOptions,
  InspectorOptions,
  MeterLike,
  MetricsOptions,
  RouteScopeOptions,
  TracerLike,
  TracingOptions,
} from "./options.ts";

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
  const {
    name,
    timeout,
    breaker,
    concurrency,
    connectionTimeout,
    shutdownTimeout,
    connectionCloseOnShutdown,
  } = validateOptions(options);
  const { traceparent, scopeTreeRoute } = checkTraceOptions(
    PLUGIN,
    options.traceparent,
    options.scopeTreeRoute,
  );

  const observability = checkObservabilityOptions(PLUGIN, options);

  if (fastify.hasDecorator("scope") || fastify.hasRequestDecorator("scope")) {
    throw alreadyRegistered();
  }
  const rootOptions: Mutable<ScopeOptions> = { name, logger: fastify.log };
  if (breaker !== undefined) rootOptions.circuitBreaker = breaker;
  // Validated by scope(), at registration.
  const persistence = options.persistence;
  if (persistence !== undefined) rootOptions.persistence = persistence;
  const root = scope(rootOptions);
  // Adapters with connect() (go-go-scope's create their tables there) are
  // connected before the first request; one that cannot connect fails registration.
  if (persistence !== undefined) await connectOrFail(root);
  // Tracing, metrics, the inspector: undefined (and nothing loaded) when all are off.
  const observation = await startObservation(
    PLUGIN,
    fastify,
    root,
    observability,
    createInspector,
  );
  if (breaker !== undefined) observation?.breaker(breaker);
  const settings: RequestScopeSettings = {
    root,
    timeout,
    concurrency,
    traceparent,
    // A request's SERVER span starts with the request.
    early: traceparent || observability.tracing !== undefined,
    observation,
  };

  fastify.decorate("scope", root);
  // The request scope, its reply, its route's settings and how it is watched
  // live behind one symbol field, declared as null so every request object
  // keeps one shape (_response.ts, kState); `request.scope` is an accessor
  // over it. Without a deadline or a trace, the scope is created on its first
  // read, and watched from that moment (_request_scope.ts): a request that
  // never reads it pays no scope, no listener and no disposal.
  fastify.decorateRequest(kState, null);
  fastify.decorateRequest("scope", {
    getter(this: FastifyRequest): Scope {
      const request = this as ScopedRequest;
      const state = request[kState];
      let route: RouteSettings | null = null;
      if (state instanceof RequestState) {
        if (state.scope !== null) return state.scope;
        route = state.settings;
      }
      return startScope(
        settings,
        request,
        undefined,
        route ?? validSettings(request, routesMayHaveSettings),
      );
    },
    setter(this: FastifyRequest, value: unknown): void {
      assignScope(this as ScopedRequest, value);
    },
  });

  // Routes declared before the plugin: onRoute never saw them, so neither
  // their settings; a global onRequest hook covers them.
  const routesBefore = !/^\(empty tree\)\s*$/.test(fastify.printRoutes());
  // Reading a route's settings at request time costs a `request.routeOptions`,
  // which Fastify builds anew on every read (a large share of the plugin's
  // work per request, BENCHMARKS.md): skipped while no route can have
  // settings.
  let routesMayHaveSettings = routesBefore;
  // Fastify's own handlerTimeout (5.8+), server-wide; a route may set its own.
  const serverHandlerTimeout =
    (fastify.initialConfig as { handlerTimeout?: number }).handlerTimeout ?? 0;
  // A Fastify hook costs every request of every route it applies to (on Deno
  // mostly in collecting the closures its runner allocates per request,
  // BENCHMARKS.md). So hooks only where they are needed: a global onRequest
  // hook when every request needs one (a plugin-wide deadline or trace, or
  // routes the plugin never saw), otherwise a route-level onRequest hook on
  // routes that have settings of ours (a deadline, a breaker, Fastify's
  // handlerTimeout, long-lived routes). Plain routes get nothing: a scope
  // read there finds its response by itself (watchEarly). The declared
  // handler is never replaced, so other plugins' onRoute hooks see it.
  const everyRequest = routesBefore || startsNow(settings, NO_SETTINGS);

  const longLived = new LongLivedRoutes(fastify, connectionTimeout);
  const shutdown = new Shutdown(fastify, root, shutdownTimeout);

  /** onRequest: the scope now where a deadline or trace applies; else the reply, for later. */
  function begin(request: ScopedRequest, reply: FastifyReply, route: RouteSettings): void {
    const state = stateOf(request);
    state.settings = route;
    if (state.scope === null && startsNow(settings, route)) {
      startScope(settings, request, reply, route);
    } else if (state.reply === null) adoptInto(request, state, reply);
  }

  fastify.addHook("onRoute", (route: RouteOptions) => {
    const config = route.config as RouteConfig | undefined;
    // Websocket and SSE routes: decided here, once per route (_long_lived.ts).
    const kind = longLivedKind(route);
    const handlerTimeout =
      ((route as { handlerTimeout?: number }).handlerTimeout ?? serverHandlerTimeout) > 0;
    if ((config === undefined || config.scope === undefined) && kind === undefined) {
      if (!handlerTimeout) return;
    }
    routesMayHaveSettings = true;
    const method = Array.isArray(route.method) ? route.method.join(",") : route.method;
    let found = routeSettings(config?.scope, `${method} ${route.url}`, handlerTimeout);
    if (found.circuitBreaker) observation?.breaker(found.circuitBreaker);
    if (kind !== undefined) {
      found = { ...found, timeout: longLived.route(route, kind, found.timeout) };
    }
    // Fastify copies the config's own properties (symbols included) into
    // the route context, where settingsOf() finds them at request time.
    route.config = { ...config, [kRouteSettings]: found } as NonNullable<RouteOptions["config"]>;
    if (everyRequest) return;
    // Long-lived handlers are replaced by @fastify/websocket and
    // @fastify/sse after this hook: the route's own onRequest is where
    // their reply is seen.
    const hook: OnRequestHook = function routeOnRequest(request, reply, done) {
      begin(request as ScopedRequest, reply, found);
      done();
    };
    const own = route.onRequest;
    route.onRequest = own === undefined ? [hook] : [...(Array.isArray(own) ? own : [own]), hook];
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
        // request.scope already (created on that read): it is watched
        // already, and from the reply now.
        begin(request as ScopedRequest, reply, invalid ? NO_SETTINGS : found);
        done(invalid ? found : undefined);
      },
    );
  }

  // An onRequest hook registered before the plugin threw, or the error came
  // before the handler: the error handler may read request.scope, and a
  // scope read earlier is watched from the reply from here on. Runs only on
  // errors.
  fastify.addHook(
    "onError",
    function onError(
      request: FastifyRequest,
      reply: FastifyReply,
      _error: unknown,
      done: () => void,
    ): void {
      const scoped = request as ScopedRequest;
      if (!knowsReply(scoped)) adoptReply(scoped, reply);
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
    ): PromiseLike<void> | void {
      // The reply of a request that reached no onRequest hook of ours: a
      // scope read earlier and not watched from its response yet (a
      // pipelined request queued behind others, app.inject()) is from here,
      // and a scope read later is watched from it. Why not knowsReply() and
      // adoptReply() here: the field holds null (undefined on the undecorated
      // request of Fastify's unknown-method fallback), this very reply or a
      // RequestState, so identity tests tell them apart and adoptInto() takes
      // the state as it is: no `instanceof`, whose mere presence in this hook
      // measured dear on Deno (BENCHMARKS.md, 2026-12-07, evening).
      const scoped = request as ScopedRequest;
      const state = scoped[kState];
      if (state === null || state === undefined) scoped[kState] = reply;
      else if (state !== reply && (state as RequestState).reply === null) {
        adoptInto(scoped, state as RequestState, reply);
      }
      if (connectionCloseOnShutdown && shutdown.closing) closeAfterResponse(reply);
      // A string (what serializers produce) or no payload: nothing the rest
      // of the send can throw at the handler, so the usual synchronous done.
      if (typeof payload === "string" || payload === undefined || payload === null) {
        return done();
      }
      // Streams and the rest: out of line, so that this hook creates no
      // closure (sendOther() says why it returns a thenable).
      return sendOther(payload, request, reply, done);
    },
  );

  if (scopeTreeRoute !== undefined) serveScopeTree(fastify, root, scopeTreeRoute);

  fastify.addHook("onClose", async (instance: FastifyInstance) => {
    shutdown.closed();
    observation?.closed();
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

async function connectOrFail(root: Scope): Promise<void> {
  try {
    await connectPersistence(root);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const failure = new Error(
      `${PLUGIN}: "persistence" could not connect (its connect() failed): ${reason}`,
      { cause: error },
    );
    Object.defineProperties(failure, {
      code: { value: "GGS_ERR_PERSISTENCE_CONNECT", enumerable: true },
      statusCode: { value: 503, enumerable: true },
    });
    throw failure;
  }
}

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
