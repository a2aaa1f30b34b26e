// The plugin's view of the raw request and response, and what it watches on
// a response: a payload stream that fails after the headers were sent (which
// would otherwise read as a client that left), and responses sent while the
// app closes.
import type { FastifyReply, FastifyRequest } from "fastify";
import { ResponseStreamError, type Scope } from "../core/mod.ts";
import type { RouteSettings } from "./_settings.ts";

/** The part of `reply.raw` (HTTP/1 or HTTP/2) the plugin touches. */
export interface RawReply {
  readonly writableEnded: boolean;
  readonly headersSent: boolean;
  /** HTTP/1 only; `null` while a pipelined response waits for the ones before it. */
  readonly socket?: unknown;
  /** HTTP/1 only. */
  readonly destroyed?: boolean;
  /** HTTP/2 only. */
  readonly stream?: { readonly destroyed: boolean };
  on(event: "close", listener: () => void): unknown;
}

/** The part of `request.raw` the plugin touches. */
export interface RawRequest {
  /** True once the client left before the request or its response completed. */
  readonly aborted?: boolean;
  readonly destroyed?: boolean;
  on(event: "close", listener: () => void): unknown;
}

/**
 * The one request field the plugin declares. `null` until the request needs
 * something; the reply alone when that is all there is to know (the onSend of
 * a request that never read its scope); a {@linkcode RequestState} once the
 * request has a scope or route settings. One field, not four: Fastify sets
 * every declared field in its request constructor through one keyed store
 * each, and with several keys those stores go megamorphic (BENCHMARKS.md,
 * 2026-12-07, "what the plugin's pieces cost").
 */
export const kState: unique symbol = Symbol("go-go-scope.request");
/** The scope is watched from the response itself (or the HTTP/2 stream). */
export const EXACT: unique symbol = Symbol("go-go-scope.watchedExactly");
/** The request is over: its scopes were ended. */
export const ENDED: unique symbol = Symbol("go-go-scope.requestEnded");
/**
 * `null` (not watched yet), {@linkcode EXACT}, {@linkcode ENDED}, or the
 * function that removes the socket listener of a queued pipelined request.
 */
export type Watch = null | typeof EXACT | typeof ENDED | (() => void);

/** What the plugin knows of a request that has a scope or route settings. */
export class RequestState {
  /** The request scope (`request.scope`), once created or assigned. */
  scope: Scope | null = null;
  /** How the scope is watched (see watchEarly in _request_scope.ts). */
  watch: Watch = null;
  /** The route's settings, stored by the route's onRequest hook for a scope created later. */
  settings: RouteSettings | null = null;
  /** The request's reply, once known (see adoptReply in _request_scope.ts). */
  reply: FastifyReply | null;

  constructor(reply: FastifyReply | null) {
    this.reply = reply;
  }
}

// `undefined` only on the undecorated request of Fastify's unknown-method fallback.
export type ScopedRequest = FastifyRequest & {
  [kState]: RequestState | FastifyReply | null | undefined;
};

/** The request's state, created (keeping a reply already known) on first need. */
export function stateOf(request: ScopedRequest): RequestState {
  const known = request[kState];
  if (known instanceof RequestState) return known;
  // `undefined` on the undecorated request of Fastify's unknown-method fallback.
  return request[kState] = new RequestState(known ?? null);
}

/** The request scope, if one exists. */
export function scopeOf(request: ScopedRequest): Scope | null {
  const known = request[kState];
  return known instanceof RequestState ? known.scope : null;
}

/** The part of a Node readable stream (a reply payload) the plugin touches. */
export interface PayloadStream {
  pipe(...args: never[]): unknown;
  once(event: "error", listener: (error: unknown) => void): unknown;
}

export function isNodeStream(payload: unknown): payload is PayloadStream {
  return typeof payload === "object" && payload !== null &&
    typeof (payload as Partial<PayloadStream>).pipe === "function" &&
    typeof (payload as Partial<PayloadStream>).once === "function";
}

/**
 * Cancels the request scope with a `ResponseStreamError` when the response's
 * stream fails after the headers were sent (Fastify then destroys the
 * response, which would otherwise read as a client that left). Before the
 * headers, Fastify answers with the error handler and the scope ends normally.
 */
export function watchStream(
  stream: PayloadStream,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  stream.once("error", (error: unknown) => streamFailed(error, request, reply));
}

/**
 * The same for a web `ReadableStream` payload, which has no error event: the
 * reply sends a stream that reads through it and sees the failing read first.
 * Only web-stream payloads pay for this. The wrapper reads the source only
 * when Fastify reads the wrapper (`highWaterMark: 0`), so it never reads
 * ahead: when the response is cancelled (the client left), the source has not
 * been drained behind Fastify's back and its `cancel()` runs.
 */
export function watchWebStream(
  stream: ReadableStream<unknown>,
  request: FastifyRequest,
  reply: FastifyReply,
): ReadableStream<unknown> {
  const reader = stream.getReader();
  return new ReadableStream<unknown>({
    async pull(controller) {
      let result: ReadableStreamReadResult<unknown>;
      try {
        result = await reader.read();
      } catch (error) {
        streamFailed(error, request, reply);
        controller.error(error);
        return;
      }
      if (result.done) controller.close();
      else controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function streamFailed(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const raw = reply.raw as unknown as RawReply;
  if (!raw.headersSent || (request.raw as unknown as RawRequest).aborted === true) return;
  scopeOf(request as ScopedRequest)?.cancel(
    new ResponseStreamError(
      `The response stream failed after the headers were sent (request ${request.id})`,
      { cause: error },
    ),
  );
}

/** An HTTP/1 response sent during app.close() ends its keep-alive socket after it. */
export function closeAfterResponse(reply: FastifyReply): void {
  const raw = reply.raw as unknown as RawReply;
  // HTTP/2 forbids connection headers; its sessions close with the server.
  if (raw.stream === undefined && !raw.headersSent) reply.header("connection", "close");
}

export function isWebStream(payload: unknown): payload is ReadableStream<unknown> {
  return typeof payload === "object" && payload !== null &&
    typeof (payload as Partial<ReadableStream>).getReader === "function" &&
    (payload as ReadableStream).locked === false;
}

/** Fastify's `done` of an onSend hook: an error, or the payload to send instead. */
export type OnSendDone = (error?: Error | null, payload?: unknown) => void;

/**
 * The end of the plugin's onSend hook for a payload that is not a string (a
 * stream, a buffer, an object Fastify could not serialize): watches a stream
 * payload, then lets the send go on.
 *
 * Why a thenable: Fastify's hook runner calls a hook inside a try/catch that
 * turns what the rest of the send throws into a 500, so calling `done()`
 * from the hook would change what `reply.send()` throws to the handler
 * (FST_ERR_REP_INVALID_PAYLOAD_TYPE for an object it cannot serialize,
 * FST_ERR_REP_READABLE_STREAM_LOCKED) into an error response. The runner
 * calls `then` outside that try/catch: calling `done` there lets such an
 * error reach the caller of `reply.send()` exactly as without the hook.
 *
 * Why out of the hook: its closure over `done` would make the hook allocate
 * a closure context on every call, string payloads included (BENCHMARKS.md,
 * 2026-12-08).
 */
export function sendOther(
  payload: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  done: OnSendDone,
): PromiseLike<void> {
  let next: unknown;
  if (isNodeStream(payload)) watchStream(payload, request, reply);
  else if (isWebStream(payload)) next = watchWebStream(payload, request, reply);
  return { then: () => done(null, next) } as unknown as PromiseLike<void>;
}
