// Creating and ending request scopes: created on the first read of
// `request.scope` (or in onRequest where a deadline or a trace applies),
// watched once the request's reply is known, ended when the response closes.
// The plugin (plugin.ts) decides where in Fastify's lifecycle each step runs.
// Never re-exported by mod.ts.
import type { FastifyReply, FastifyRequest } from "fastify";
import { ClientDisconnectedError, ResponseStreamError, Scope } from "../core/mod.ts";
import { childScope, disposeScope } from "../core/internal.ts";
import { adoptRequestTrace, startTrace } from "./trace.ts";
import { kReply, kScope, type RawReply, type RawRequest, type ScopedRequest } from "./_response.ts";
import type { RouteSettings } from "./_settings.ts";

/** The plugin-wide settings every request scope is built from (validated at registration). */
export interface RequestScopeSettings {
  readonly root: Scope;
  readonly timeout: number | undefined;
  readonly concurrency: number | undefined;
  readonly traceparent: boolean;
}

/**
 * Ends the request scope when the response closes: cancels it first if the
 * client left (the response did not end, or the request was aborted), then
 * disposes it. The state lives in this listener's closure, not on
 * `reply.raw`: properties added to Node's response objects would give them a
 * second hidden class that Node's own response code then has to handle.
 */
function closeListener(raw: RawReply, request: FastifyRequest, own: Scope): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    // On Deno, Fastify's 400 for a body the client stopped sending ends the
    // response before 'close': `aborted` says the client left all the same.
    const ended = raw.writableEnded && (request.raw as unknown as RawRequest).aborted !== true;
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

/** Ends `requestScope` with the response (see closeListener). */
function watchResponse(request: ScopedRequest, reply: FastifyReply, requestScope: Scope): void {
  const raw = reply.raw as unknown as RawReply;
  const onClose = closeListener(raw, request, requestScope);
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
 * Records the request's reply, from which its scope is watched: at once for
 * a scope that already exists (read before the reply was known), on creation
 * otherwise. Call it only while `request[kReply]` is `null`: the callers
 * test that themselves, because on Deno an unconditional call from every
 * hook and handler measured more instructions per request (BENCHMARKS.md).
 */
export function adoptReply(request: ScopedRequest, reply: FastifyReply): void {
  request[kReply] = reply;
  const early = request[kScope];
  if (early !== null) watchResponse(request, reply, early);
}

/**
 * Whether the request scope is created in onRequest rather than on first
 * read: a deadline counts from the request's arrival, and a trace changes
 * the request's logger for every hook.
 */
export function startsNow(plugin: RequestScopeSettings, route: RouteSettings): boolean {
  return plugin.traceparent || deadlineOf(plugin, route) !== undefined;
}

/** The request scope's deadline: the route's own (`false`: none), else the plugin's. */
function deadlineOf(plugin: RequestScopeSettings, route: RouteSettings): number | undefined {
  const deadline = route.timeout === undefined ? plugin.timeout : route.timeout;
  return deadline === false ? undefined : deadline;
}

/**
 * Creates the request scope (a child of the root, through the core's
 * internal door: options were validated at registration and per route in
 * onRoute) and, when the reply is known, ends it with the response. Without
 * the reply it is watched once `adoptReply` runs (the handler, onSend or
 * onError).
 */
export function startScope(
  plugin: RequestScopeSettings,
  request: ScopedRequest,
  reply: FastifyReply | undefined,
  route: RouteSettings,
): Scope {
  const id = request.id;
  const trace = plugin.traceparent && reply !== undefined ? startTrace(request, reply) : undefined;
  // A route's circuitBreaker false means no breaker, not even the root's.
  const requestScope = childScope(plugin.root, {
    name: "request-" + id,
    logger: request.log,
    context: { requestId: id },
    timeout: deadlineOf(plugin, route),
    concurrency: plugin.concurrency,
    circuitBreaker: route.circuitBreaker,
  });
  if (trace !== undefined) adoptRequestTrace(requestScope, trace);
  request[kScope] = requestScope;
  if (reply !== undefined) {
    request[kReply] = reply;
    watchResponse(request, reply, requestScope);
  }
  return requestScope;
}

/**
 * What `request.scope = value` does: a hook that sets a scope of its own
 * before any was created (the pattern the go-go-scope docs show) has that
 * scope ended with the response, as the plugin's own would have been.
 */
export function assignScope(request: ScopedRequest, value: Scope): void {
  const before = request[kScope];
  request[kScope] = value;
  const reply = request[kReply];
  if (before === null && reply !== null && value instanceof Scope) {
    watchResponse(request, reply, value);
  }
}
