/**
 * Server-sent events from a request scope, through `@fastify/sse`.
 *
 * `@fastify/sse` writes the events (headers, heartbeats, `Last-Event-ID`,
 * backpressure); these helpers tie the stream to `request.scope`, so a client
 * that leaves stops the producer and a producer that fails ends the stream.
 *
 * @module
 */
import type { Channel, Scope, TaskContext } from "../core/mod.ts";
import { assertInteger, watchAbort } from "../core/internal.ts";

/**
 * One server-sent event: a string (sent as `data:` lines) or a message object
 * whose `data` is serialized (JSON by default). The shape `@fastify/sse`
 * accepts.
 *
 * @example
 * ```ts
 * import type { SSEEvent } from "@go-go-scope/adapter-fastify";
 *
 * const event: SSEEvent = { id: "1", event: "tick", data: { n: 1 } };
 * console.log(event.data); // { n: 1 }
 * ```
 */
export type SSEEvent = string | {
  /** Sent as `id:`; the browser sends it back as `Last-Event-ID` on reconnect. */
  id?: string;
  /** Sent as `event:`: the event's name (`message` when omitted). */
  event?: string;
  /** The payload. */
  data: unknown;
  /** Sent as `retry:`: the client's reconnection delay in ms. */
  retry?: number;
};

/**
 * The part of a Fastify reply these helpers use: `reply.sse` from
 * `@fastify/sse` (on a route registered with its `sse` option), the request
 * with its scope (from this package's plugin) and the logger. Any
 * `FastifyReply` of such a route fits.
 *
 * @example
 * ```ts
 * import type { SSEReply } from "@go-go-scope/adapter-fastify";
 *
 * function connected(reply: SSEReply): boolean {
 *   return !reply.request.scope.signal.aborted;
 * }
 * console.log(typeof connected);
 * ```
 */
export interface SSEReply {
  /** `@fastify/sse`'s reply decoration. */
  readonly sse: { send(source: AsyncIterable<SSEEvent>): Promise<void> };
  /** The request, whose `scope` the stream belongs to. */
  readonly request: { readonly scope: Scope };
  /** The request's logger. */
  readonly log: { error(obj: unknown, msg?: string): void };
}

/**
 * Options of {@linkcode streamEvents}.
 *
 * @example
 * ```ts
 * import type { StreamEventsOptions } from "@go-go-scope/adapter-fastify";
 *
 * const options: StreamEventsOptions = { buffer: 32 };
 * console.log(options.buffer); // 32
 * ```
 */
export interface StreamEventsOptions {
  /**
   * Events the channel holds before the producer's `send()` waits. Bounds
   * the memory a slow client can cost.
   * @default 16
   */
  buffer?: number;
}

/**
 * A function that produces events: it sends them on `events` and returns
 * when it is done. It runs as a task of the request scope, so `ctx.signal`
 * aborts when the client leaves or the scope times out.
 *
 * @typeParam T The events' type.
 */
export type EventProducer<T extends SSEEvent> = (
  events: Channel<T>,
  ctx: TaskContext,
) => unknown;

/**
 * Thrown (and answered as a 406 by Fastify's error handler) when a handler
 * streams events to a client that did not ask for `text/event-stream`: on a
 * route registered with `{ sse: true }`, `@fastify/sse` attaches `reply.sse`
 * only when the `Accept` header names `text/event-stream`. Register routes
 * that only stream with `{ sse: "only" }`: every client that accepts the
 * stream (a wildcard, no `Accept` at all, `text/event-stream`) gets it, and one that
 * refuses it gets `@fastify/sse`'s own 406.
 *
 * @example
 * ```ts
 * import { SSENotAcceptableError } from "@go-go-scope/adapter-fastify";
 *
 * const error = new SSENotAcceptableError();
 * console.log(error.statusCode, error.code); // 406 GGS_ERR_SSE_NOT_ACCEPTABLE
 * ```
 */
export class SSENotAcceptableError extends Error {
  /** Stable error code. */
  readonly code: "GGS_ERR_SSE_NOT_ACCEPTABLE" = "GGS_ERR_SSE_NOT_ACCEPTABLE";
  /** HTTP status: 406 Not Acceptable. */
  readonly statusCode: 406 = 406;
  /** Creates the error with a message that names the fix. */
  constructor() {
    super(
      "Cannot stream events: this request did not ask for text/event-stream " +
        '(send "Accept: text/event-stream"), and the route does not always stream ' +
        '(register SSE-only routes with { sse: "only" })',
    );
    this.name = "SSENotAcceptableError";
  }
}

/** `reply.sse` is missing on a `{ sse: true }` route when the client did not ask for a stream. */
function assertStreaming(reply: SSEReply): void {
  if ((reply.sse as SSEReply["sse"] | undefined) === undefined) throw new SSENotAcceptableError();
}

/** Yields `source`'s values until `owner` aborts. */
async function* untilAborted<T>(source: AsyncIterable<T>, owner: Scope): AsyncGenerator<T> {
  if (owner.isAborted) return;
  for await (const value of source) {
    if (owner.isAborted) return;
    yield value;
  }
}

/**
 * Sends every event of `source` with `reply.sse.send()` and returns when the
 * source ends or the request scope aborts (the client left, or the route's
 * timeout passed), whichever comes first.
 *
 * `await reply.sse.send(channel)` alone streams a channel too, but when the
 * client leaves while `@fastify/sse` waits for the socket to drain, that
 * promise never settles: the handler never returns and the source's
 * iterator is never closed. This helper returns as soon as the scope aborts
 * and closes the source's iterator (an async generator's `finally` runs).
 *
 * A source that throws rejects the returned promise: before the first event
 * Fastify then replies with the error; after it, `@fastify/sse` ends the
 * stream and Fastify logs the error.
 *
 * @typeParam T The events' type.
 * @param reply The reply of a route registered with `@fastify/sse`'s `sse` option
 *   (`{ sse: "only" }` for a route that always streams).
 * @param source The events: a `Channel`, an async generator, any async iterable.
 * @returns A promise that settles when the stream is over.
 * @throws {SSENotAcceptableError} (a 406) If the reply has no `reply.sse`: a
 *   `{ sse: true }` route and a client that did not ask for `text/event-stream`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifySSE } from "@fastify/sse";
 * import { fastifyGoGoScope, sendEvents } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * await app.register(fastifySSE);
 * app.get("/numbers", { sse: "only" }, async (request, reply) => {
 *   async function* numbers() {
 *     for (let n = 0; n < 3; n++) yield { data: n };
 *   }
 *   await sendEvents(reply, numbers());
 * });
 * await app.ready();
 * await app.close();
 * ```
 */
export function sendEvents<T extends SSEEvent>(
  reply: SSEReply,
  source: AsyncIterable<T>,
): Promise<void> {
  assertStreaming(reply);
  return send(reply, source, false);
}

/**
 * `sendEvents`; `ownChannel` when `source` is a channel of the request scope, which closes (and
 * ends its iteration) when the scope aborts by itself: then no relay stops it at the abort.
 * The abort is watched through the scope itself: reading its signal would create an
 * AbortController, and adding a listener to it costs more than the rest of a short stream.
 */
async function send<T extends SSEEvent>(
  reply: SSEReply,
  source: AsyncIterable<T>,
  ownChannel: boolean,
): Promise<void> {
  const owner = reply.request.scope;
  if (owner.isAborted) return;
  const relay = ownChannel ? source : untilAborted(source, owner);
  let unwatch!: () => void;
  const aborted = new Promise<void>((resolve) => {
    unwatch = watchAbort(owner, () => resolve());
  });
  const sending = reply.sse.send(relay);
  try {
    await Promise.race([sending, aborted]);
  } finally {
    unwatch();
    if (owner.isAborted) {
      // `sending` may wait forever for a 'drain' that never comes; nothing
      // awaits it any more, so keep a late failure from going unhandled.
      sending.catch(() => {});
      if (!ownChannel) (relay as AsyncGenerator<T>).return(undefined).catch(() => {});
    }
  }
}

/**
 * Streams the events a producer sends, as server-sent events.
 *
 * Creates a channel of `buffer` events on the request scope and runs
 * `producer(channel, ctx)` as a task of that scope, while `@fastify/sse`
 * sends what the channel receives, in order:
 *
 * - when the producer returns, the channel closes and the stream ends after
 *   the buffered events;
 * - when the producer throws, the error is logged with `reply.log.error`,
 *   and the stream ends the same way (the response was already sent);
 * - when the client leaves, the request scope aborts: the producer's
 *   `ctx.signal` aborts, the channel closes (a waiting `send()` returns
 *   `false`) and this function returns;
 * - when the client reads slowly, `@fastify/sse` waits for the socket to
 *   drain, the channel fills, and the producer's `send()` waits: memory
 *   stays bounded by `buffer`.
 *
 * The request scope then ends with the producer's error as its reason.
 *
 * An SSE route gets no deadline from the plugin's `timeout` (the plugin's
 * `connectionTimeout` instead); its `config.scope.timeout` can set one.
 *
 * @typeParam T The events' type.
 * @param reply The reply of a route registered with `@fastify/sse`'s `sse` option
 *   (`{ sse: "only" }` for a route that always streams).
 * @param producer Sends events on the channel it is given.
 * @param options The channel's `buffer`.
 * @returns A promise that settles when the stream is over.
 * @throws {TypeError | RangeError} If `buffer` is not an integer >= 0.
 * @throws {SSENotAcceptableError} (a 406) If the reply has no `reply.sse`: a
 *   `{ sse: true }` route and a client that did not ask for `text/event-stream`;
 *   the producer is then never started.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifySSE } from "@fastify/sse";
 * import { fastifyGoGoScope, streamEvents } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * await app.register(fastifySSE);
 * app.get("/ticks", { sse: "only", config: { scope: { timeout: false } } }, async (req, reply) => {
 *   await streamEvents(reply, async (events, { signal }) => {
 *     for (let n = 0; n < 10 && !signal.aborted; n++) {
 *       if (!await events.send({ id: String(n), event: "tick", data: { n } })) return;
 *     }
 *   });
 * });
 * await app.ready();
 * await app.close();
 * ```
 */
export async function streamEvents<T extends SSEEvent>(
  reply: SSEReply,
  producer: EventProducer<T>,
  options: StreamEventsOptions = {},
): Promise<void> {
  const { buffer = 16 } = options;
  assertInteger("Cannot stream events", "buffer", buffer, 0);
  assertStreaming(reply);
  const requestScope = reply.request.scope;
  const events = requestScope.channel<T>({ buffer });
  let failure: { error: unknown } | undefined;
  const task = requestScope.task(async (ctx) => {
    try {
      await producer(events, ctx);
    } catch (error) {
      if (!ctx.signal.aborted) {
        reply.log.error({ err: error }, "SSE producer failed; ending the stream");
        failure = { error };
      }
      throw error;
    } finally {
      events.close();
    }
  }, { name: "sse-producer" });
  try {
    await send(reply, events, true);
  } finally {
    // The stream is over (the producer finished, or the client left, or a
    // write failed): stop a producer that is still running.
    events.close();
    task.cancel();
    // The stream ended because the producer failed: that is the scope's reason.
    if (failure !== undefined && !requestScope.isAborted) requestScope.cancel(failure.error);
  }
}
