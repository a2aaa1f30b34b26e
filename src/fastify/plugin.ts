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
import { ClientDisconnectedError, ResponseStreamError, Scope, scope } from "../core/mod.ts";
import { childScope, disposeScope } from "../core/_child_scope.ts";
import { longLivedKind, LongLivedRoutes } from "./_long_lived.ts";
import { adoptRequestTrace, checkTraceOptions, serveScopeTree, startTrace } from "./trace.ts";
import {
  closeAfterResponse,
  isNodeStream,
  isWebStream,
  kReply,
  kScope,
  type RawReply,
  type RawRequest,
  type ScopedRequest,
  watchStream,
  watchWebStream,
} from "./_response.ts";
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

/**
 * Ends the request scope when the response closes: cancels it first if the
 * client left (the response did not end, or the request was aborted), then
 * disposes it. `raw` is `undefined` for a scope created late (see
 * `lateScope`), which only has the request to watch. The state lives in this
 * listener's closure, not on `reply.raw`: properties added to Node's response
 * objects would give them a second hidden class that Node's own response code
 * then has to handle.
 */
function closeListener(raw: RawReply | undefined, request: FastifyRequest, own: Scope): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    // On Deno, Fastify's 400 for a body the client stopped sending ends the
    // response before 'close': `aborted` says the client left all the same.
    const ended = (raw === undefined || raw.writableEnded) &&
      (request.raw as unknown as RawRequest).aborted !== true;
    // A hook may have replaced request.scope with a scope of its own (the
    // pattern the go-go-scope docs show): it ends with the response too.
    const current: unknown = (request as ScopedRequest)[kScope];
    const reason = ended ? undefined : leftReason(request, current);
    endScope(own, request, reason);
    if (current !== own && current instanceof Scope) endScope(current, request, reason);
  };
}

/** Why a response that did not end closed: its stream failed, or the client left. */
function leftReason(request: FastifyRequest, current: unknown): Error {
  if (current instanceof Scope && current.abortReason instanceof ResponseStreamError) {
    return current.abortReason;
  }
  return new ClientDisconnectedError(
    `Client disconnected before the response ended (request ${request.id})`,
  );
}

function endScope(requestScope: Scope, request: FastifyRequest, reason: Error | undefined): void {
  if (requestScope.isDisposed) return; // the root's disposal got there first
  if (reason !== undefined && !requestScope.isAborted) requestScope.cancel(reason);
  // Usually finishes synchronously; only cleanups or children make it async.
  disposeScope(requestScope)?.catch((error: unknown) => {
    request.log.error({ err: error }, "go-go-scope: disposing the request scope failed");
  });
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

  if (fastify.hasDecorator("scope") || fastify.hasRequestDecorator("scope")) {
    throw alreadyRegistered();
  }
  const rootOptions: Mutable<ScopeOptions> = { name, logger: fastify.log };
  if (breaker !== undefined) rootOptions.circuitBreaker = breaker;
  // Validated by scope(), at registration.
  const persistence = options.persistence;
  if (persistence !== undefined) rootOptions.persistence = persistence;
  const root = scope(rootOptions);

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
  // The request scope lives in a symbol field, declared as null so every
  // request object keeps one shape, and `request.scope` is an accessor over
  // it. Without a deadline (plugin or route timeout) or a trace to start, the
  // scope is created on the first read: a request that never reads it costs
  // one field store in onRequest, where its reply is kept for that read. The
  // accessor also covers requests whose onRequest never ran (an onRequest
  // hook registered before the plugin threw or replied).
  fastify.decorateRequest(kScope, null);
  fastify.decorateRequest(kReply, null);
  fastify.decorateRequest("scope", {
    getter(this: FastifyRequest): Scope {
      const request = this as ScopedRequest;
      return request[kScope] ??
        startScope(
          request,
          request[kReply] ?? undefined,
          validSettings(request, routesMayHaveSettings),
        );
    },
    setter(this: FastifyRequest, value: Scope): void {
      const request = this as ScopedRequest;
      const before = request[kScope];
      request[kScope] = value;
      // A hook that sets a scope of its own before any was created (the
      // pattern the go-go-scope docs show): that scope ends with the
      // response, as the plugin's own would have.
      const reply = request[kReply];
      if (before === null && reply !== null && value instanceof Scope) {
        watchResponse(request, reply, value);
      }
    },
  });

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

  /**
   * Creates the request scope and ends it with the response. `reply` is
   * `undefined` when `request.scope` is first read somewhere the plugin's
   * onRequest did not run: only the request's 'close' can be watched then.
   */
  function startScope(
    request: ScopedRequest,
    reply: FastifyReply | undefined,
    settings: RouteSettings,
  ): Scope {
    const id = request.id;
    const deadline = settings.timeout === undefined ? timeout : settings.timeout;
    const trace = traceparent && reply !== undefined ? startTrace(request, reply) : undefined;
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
    request[kScope] = requestScope;
    if (reply === undefined) {
      const req = request.raw as unknown as RawRequest;
      const onClose = closeListener(undefined, request, requestScope);
      req.on("close", onClose);
      if (req.destroyed === true) onClose();
      return requestScope;
    }
    watchResponse(request, reply, requestScope);
    return requestScope;
  }

  /** Ends `requestScope` with the response (see closeListener). */
  function watchResponse(request: ScopedRequest, reply: FastifyReply, requestScope: Scope): void {
    const raw = reply.raw as unknown as RawReply;
    const onClose = closeListener(raw, request, requestScope);
    raw.on("close", onClose);
    // A pipelined HTTP/1 response queued behind earlier ones has no socket
    // yet, and never emits 'close' if the socket dies first; its request
    // does. Only queued responses pay for the second listener.
    if (raw.socket === null) (request.raw as unknown as RawRequest).on("close", onClose);
    // The client may have left while an earlier async hook ran: then
    // 'close' has already fired and will not fire again. HTTP/2 responses
    // have no `destroyed`: their stream tells.
    const destroyed = raw.destroyed;
    if (destroyed === true || (destroyed === undefined && raw.stream?.destroyed === true)) {
      onClose();
    }
  }

  /**
   * Whether the request scope is created in onRequest rather than on first
   * read: a deadline counts from the request's arrival, and a trace changes
   * the request's logger for every hook.
   */
  function startsNow(settings: RouteSettings): boolean {
    if (traceparent) return true;
    const deadline = settings.timeout === undefined ? timeout : settings.timeout;
    return deadline !== undefined && deadline !== false;
  }

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
      // request.scope already (created on that read): it gets the response
      // watchers now, so the request has one scope.
      const early = (request as ScopedRequest)[kScope];
      if (early !== null) watchResponse(request as ScopedRequest, reply, early);
      else if (invalid || !startsNow(found)) (request as ScopedRequest)[kReply] = reply;
      else startScope(request as ScopedRequest, reply, found);
      done(invalid ? found : undefined);
    },
  );

  // An onRequest hook registered before the plugin threw: the plugin's
  // onRequest never ran. Runs only on errors, before the error handler, which
  // may read request.scope: keep the reply for that read.
  fastify.addHook(
    "onError",
    function onError(
      request: FastifyRequest,
      reply: FastifyReply,
      _error: unknown,
      done: () => void,
    ): void {
      const scoped = request as ScopedRequest;
      if (scoped[kScope] === null && scoped[kReply] === null) scoped[kReply] = reply;
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
      // A reply to keep when onRequest did not run (an earlier onRequest hook
      // replied): onSend and onResponse hooks may still read request.scope.
      const scoped = request as ScopedRequest;
      if (scoped[kReply] === null) scoped[kReply] = reply;
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
 * (`request.scope`), created in `onRequest` and usable in every hook and
 * handler Fastify runs for the request, the error handler included (when an
 * earlier `onRequest` hook threw or replied, it is created on first read).
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
