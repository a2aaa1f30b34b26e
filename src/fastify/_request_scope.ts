// Creating, watching and ending request scopes: created on the first read of
// `request.scope` (or in onRequest where a deadline or a trace applies),
// watched from the moment it exists, ended when the response closes.
// The plugin (plugin.ts) decides where in Fastify's lifecycle each step runs.
// Never re-exported by mod.ts.
import type { FastifyReply, FastifyRequest } from "fastify";
import { ClientDisconnectedError, ResponseStreamError, Scope, TimeoutError } from "../core/mod.ts";
import { childScope, describe, disposeScope, optionError, watchAbort } from "../core/internal.ts";
import { adoptRequestTrace, startTrace } from "./trace.ts";
import {
  ENDED,
  EXACT,
  kState,
  type RawReply,
  type RawRequest,
  RequestState,
  type ScopedRequest,
  stateOf,
} from "./_response.ts";
import type { RouteSettings } from "./_settings.ts";
import { type Observation, observedOf } from "./_observe.ts";

/** The plugin-wide settings every request scope is built from (validated at registration). */
export interface RequestScopeSettings {
  readonly root: Scope;
  readonly timeout: number | undefined;
  readonly concurrency: number | undefined;
  readonly traceparent: boolean;
  /** Whether every request scope starts in onRequest (`traceparent`, `tracing`). */
  readonly early: boolean;
  /** Tracing, metrics, the inspector: `undefined` when all are off. */
  readonly observation: Observation | undefined;
}

/** The HTTP/1 socket as the plugin sees it before the request's reply is known. */
interface RawSocket {
  readonly destroyed: boolean;
  /** The response currently attached to the socket (Node's and Deno's `node:http`). */
  readonly _httpMessage?: { readonly req?: unknown } | null;
  on(event: "close", listener: () => void): unknown;
  off(event: "close", listener: () => void): unknown;
}

/** `request.raw` with what the early watch reads: its socket (HTTP/1) or stream (HTTP/2). */
interface RawRequestWithTransport extends RawRequest {
  readonly httpVersionMajor: number;
  readonly socket?: RawSocket | null;
  readonly stream?: RawReply & { readonly destroyed: boolean };
}

/**
 * Ends the request scope when the response closes: cancels it first if the
 * client left (the response did not end, or the request was aborted), then
 * disposes it, together with a scope a hook assigned to `request.scope`. The
 * state lives in this listener's closure, not on `reply.raw`: properties added
 * to Node's response objects would give them a second hidden class that
 * Node's own response code then has to handle.
 */
function closeListener(
  raw: RawReply,
  request: ScopedRequest,
  state: RequestState,
  own: Scope,
): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    // On Deno, Fastify's 400 for a body the client stopped sending ends the
    // response before 'close': `aborted` says the client left all the same.
    const ended = raw.writableEnded && (request.raw as unknown as RawRequest).aborted !== true;
    endRequest(request, state, own, ended ? undefined : leftReason(request, state));
  };
}

/** Ends the plugin's own scope and the scope a hook assigned, if any; marks the request ended. */
function endRequest(
  request: ScopedRequest,
  state: RequestState,
  own: Scope,
  reason: Error | undefined,
): void {
  const watch = state.watch;
  if (typeof watch === "function") watch(); // a socket listener of the early watch
  state.watch = ENDED;
  const current = state.scope;
  // Observed (tracing, metrics, inspector): told how the request ended.
  const observed = observedOf(own);
  const cancelled = observed === undefined
    ? undefined
    : reason ?? (own.isAborted ? own.abortReason : undefined);
  endScope(own, request, reason);
  if (current !== own && current !== null) endScope(current, request, reason);
  observed?.end({ cancelled, statusCode: statusOf(state) });
}

/** The response's status code, once its headers were sent. */
function statusOf(state: RequestState): number | undefined {
  const raw = state.reply?.raw as unknown as
    | { readonly headersSent: boolean; readonly statusCode: number }
    | undefined;
  return raw !== undefined && raw.headersSent ? raw.statusCode : undefined;
}

/** Why a response that did not end closed: its stream failed, or the client left. */
function leftReason(request: FastifyRequest, state: RequestState): Error {
  const current = state.scope;
  if (current !== null && current.abortReason instanceof ResponseStreamError) {
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
  const disposal = disposeScope(requestScope);
  if (disposal !== undefined) logFailure(disposal, request);
}

/**
 * Logs an asynchronous disposal's failure on the request's logger. Out of
 * endScope: its closure would make every call of endScope allocate a closure
 * context.
 */
function logFailure(disposal: Promise<void>, request: FastifyRequest): void {
  disposal.catch((error: unknown) => {
    request.log.error({ err: error }, "go-go-scope: disposing the request scope failed");
  });
}

/** Ends `requestScope` when `raw` (the response, or the HTTP/2 stream) closes. */
function watchResponse(
  request: ScopedRequest,
  state: RequestState,
  raw: RawReply,
  requestScope: Scope,
): void {
  state.watch = EXACT;
  const onClose = closeListener(raw, request, state, requestScope);
  raw.on("close", onClose);
  // A pipelined HTTP/1 response queued behind earlier ones has no socket
  // yet, and never emits 'close' if the socket dies first; its request
  // does. Only queued responses pay for the second listener.
  if (raw.socket === null) (request.raw as unknown as RawRequest).on("close", onClose);
  // The client may have left before the scope was watched: then 'close' has
  // already fired and will not fire again (and a response that already
  // closed has `destroyed` set too). HTTP/2 responses have no `destroyed`:
  // their stream tells.
  const destroyed = raw.destroyed;
  if (destroyed === true || (destroyed === undefined && raw.stream?.destroyed === true)) {
    onClose();
  }
}

/**
 * Watches a scope that exists before the request's reply is known (read in
 * a hook before the handler, or in a hook of a plugin registered earlier).
 * Laziness must not delay cancellation, so it finds what tells when the
 * request is over without the reply:
 * - HTTP/2: the request's stream, which closes when the response ends or the
 *   stream is reset (exactly what `reply.raw` would tell);
 * - HTTP/1: the response attached to the request's socket, which is this
 *   request's own unless the request is pipelined behind others; then the
 *   socket's `'close'` (the client left) until the reply is adopted;
 * - anything else (`app.inject()`, an upgrade request): the reply, once a
 *   hook of the plugin adopts it.
 * Only requests whose scope is read before the handler pay for this.
 */
function watchEarly(request: ScopedRequest, state: RequestState, requestScope: Scope): void {
  const raw = request.raw as unknown as RawRequestWithTransport;
  // The version first: reading `stream` on an HTTP/1 request misses along
  // its whole prototype chain.
  if (raw.httpVersionMajor === 2 && raw.stream !== undefined) {
    return watchResponse(request, state, raw.stream, requestScope);
  }
  const socket = raw.socket;
  if (socket === undefined || socket === null) return;
  if (socket.destroyed) {
    return endRequest(request, state, requestScope, leftReason(request, state));
  }
  const head = socket._httpMessage;
  // No response on the socket: `app.inject()`, an upgrade request (websocket),
  // or a hijacked response that already finished. The reply tells, once a
  // hook of the plugin adopts it.
  if (head === undefined || head === null) return;
  if (head.req === raw) {
    return watchResponse(request, state, head as unknown as RawReply, requestScope);
  }
  watchQueued(request, state, requestScope, socket);
}

/**
 * A request queued behind another request's response on the same socket:
 * its scope ends if the socket closes before the reply is adopted. Out of
 * watchEarly: these closures would make every call of it allocate a
 * closure context.
 */
function watchQueued(
  request: ScopedRequest,
  state: RequestState,
  requestScope: Scope,
  socket: RawSocket,
): void {
  const onClose = (): void => endRequest(request, state, requestScope, leftReason(request, state));
  socket.on("close", onClose);
  state.watch = () => socket.off("close", onClose);
}

/**
 * Records the request's reply, from which its scope is watched: at once for
 * a scope that exists and is not watched exactly yet, on creation otherwise.
 * A request with nothing else known keeps the reply alone in its field (no
 * state object). Call it only while the reply is not known: the callers test
 * that themselves, because on Deno an unconditional call from every hook
 * measured more instructions per request (BENCHMARKS.md).
 */
export function adoptReply(request: ScopedRequest, reply: FastifyReply): void {
  const state = request[kState];
  if (state instanceof RequestState) adoptInto(request, state, reply);
  else request[kState] = reply;
}

/** adoptReply() for a request known to have its state (the `onSend` hook tells by identity). */
export function adoptInto(request: ScopedRequest, state: RequestState, reply: FastifyReply): void {
  state.reply = reply;
  const early = state.scope;
  if (early === null) return;
  const watch = state.watch;
  if (watch === EXACT || watch === ENDED) return;
  if (watch !== null) watch(); // the socket listener of a queued request
  watchResponse(request, state, reply.raw as unknown as RawReply, early);
}

/** Whether the request's reply is known yet. */
export function knowsReply(request: ScopedRequest): boolean {
  const state = request[kState];
  if (state instanceof RequestState) return state.reply !== null;
  // `undefined` on the undecorated request of Fastify's unknown-method fallback: not known yet.
  return state !== null && state !== undefined;
}

/**
 * Whether the request scope is created in onRequest rather than on first
 * read: a deadline counts from the request's arrival, and a trace changes
 * the request's logger for every hook.
 */
export function startsNow(plugin: RequestScopeSettings, route: RouteSettings): boolean {
  return plugin.early || deadlineOf(plugin, route) !== undefined;
}

/** The request scope's deadline: the route's own (`false`: none), else the plugin's. */
function deadlineOf(plugin: RequestScopeSettings, route: RouteSettings): number | undefined {
  const deadline = route.timeout === undefined ? plugin.timeout : route.timeout;
  return deadline === false ? undefined : deadline;
}

/**
 * Creates the request scope (a child of the root, through the core's
 * internal door: options were validated at registration and per route in
 * onRoute) and watches it at once: from the reply when it is known, from the
 * request's stream or socket otherwise (see watchEarly).
 */
export function startScope(
  plugin: RequestScopeSettings,
  request: ScopedRequest,
  reply: FastifyReply | undefined,
  route: RouteSettings,
): Scope {
  const id = request.id;
  const deadline = deadlineOf(plugin, route);
  const trace = plugin.traceparent && reply !== undefined ? startTrace(request, reply) : undefined;
  // A route's circuitBreaker false means no breaker, not even the root's.
  const requestScope = childScope(plugin.root, {
    name: "request-" + id,
    logger: request.log,
    context: { requestId: id },
    timeout: deadline,
    concurrency: plugin.concurrency,
    circuitBreaker: route.circuitBreaker,
  });
  if (trace !== undefined) adoptRequestTrace(requestScope, trace);
  if (plugin.observation !== undefined) plugin.observation.started(request, requestScope, deadline);
  const state = stateOf(request);
  state.scope = requestScope;
  if (route.handlerTimeout) watchHandlerTimeout(request, requestScope);
  if (reply !== undefined) {
    state.reply = reply;
    watchResponse(request, state, reply.raw as unknown as RawReply, requestScope);
  } else if (state.watch === ENDED) {
    // Read after the response ended (an onResponse hook): ended at once.
    endScope(requestScope, request, undefined);
    observedOf(requestScope)?.end({ cancelled: undefined, statusCode: statusOf(state) });
  } else {
    const known = state.reply;
    if (known !== null) {
      watchResponse(request, state, known.raw as unknown as RawReply, requestScope);
    } else watchEarly(request, state, requestScope);
  }
  return requestScope;
}

/** Fastify's handler-timeout error, the reason of `request.signal` when `handlerTimeout` passes. */
interface HandlerTimeoutError extends Error {
  readonly code: "FST_ERR_HANDLER_TIMEOUT";
}

/**
 * On a route with Fastify's `handlerTimeout` (5.8+), cancels the request scope
 * with a `TimeoutError` the moment Fastify gives up on the handler (Fastify
 * then answers 503 but never stops the work itself). The listener on
 * `request.signal`, which exists already on such routes, is removed when the
 * scope ends.
 */
function watchHandlerTimeout(request: FastifyRequest, requestScope: Scope): void {
  const signal = (request as FastifyRequest & { signal?: AbortSignal }).signal;
  if (signal === undefined) return; // Fastify before 5.8
  const onAbort = (): void => {
    const reason = signal.reason as Partial<HandlerTimeoutError> | undefined;
    if (reason?.code !== "FST_ERR_HANDLER_TIMEOUT" || requestScope.isAborted) return;
    const ms = request.routeOptions.handlerTimeout ?? 0;
    requestScope.cancel(
      new TimeoutError(`Fastify's handlerTimeout of ${ms} ms passed (request ${request.id})`, ms, {
        cause: reason,
      }),
    );
  };
  if (signal.aborted) return onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  watchAbort(requestScope, () => signal.removeEventListener("abort", onAbort));
}

/**
 * What `request.scope = value` does. A `Scope` (a hook setting a scope of its
 * own, the pattern the go-go-scope docs show) becomes `request.scope` and is
 * ended with the response, like the plugin's own, which still ends too.
 * Anything else is refused at once with a `TypeError` naming what was
 * received: nothing the plugin ends can then be a non-scope.
 */
export function assignScope(request: ScopedRequest, value: unknown): void {
  if (!(value instanceof Scope)) {
    const error = optionError(
      `Cannot assign request.scope: the value must be a Scope (from scope() or a child of ` +
        `fastify.scope), received ${describe(value)}`,
      false,
      "GGS_ERR_INVALID_SCOPE",
    );
    Object.defineProperty(error, "statusCode", { value: 500, enumerable: true });
    throw error;
  }
  const state = stateOf(request);
  const before = state.scope;
  if (value === before) return;
  state.scope = value;
  const watch = state.watch;
  if (watch === ENDED) return endScope(value, request, undefined);
  // The watch of an existing scope ends the current one with it (endRequest).
  if (before !== null) return;
  const reply = state.reply;
  if (reply !== null) watchResponse(request, state, reply.raw as unknown as RawReply, value);
  else watchEarly(request, state, value);
}
