/**
 * Websockets from a request scope, through `@fastify/websocket`.
 *
 * The plugin ends a websocket route's scope with the reason the connection
 * ended for (see README, "Long-lived connections"); {@linkcode socketChannel}
 * pipes channels to and from the socket with backpressure.
 *
 * @module
 */
import {
  AbortError,
  type Backpressure,
  type Channel,
  ClientDisconnectedError,
  type Scope,
  ServerClosingError,
  TimeoutError,
} from "../core/mod.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertObject,
  disposeScope,
} from "../core/internal.ts";

/**
 * The part of a `ws` WebSocket (what `@fastify/websocket` hands a handler)
 * these helpers use.
 *
 * @example
 * ```ts
 * import type { WebSocketLike } from "@go-go-scope/adapter-fastify";
 *
 * function isOpen(socket: WebSocketLike): boolean {
 *   return socket.readyState === 1;
 * }
 * console.log(typeof isOpen);
 * ```
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send()` and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /** Sends a message; `callback` runs once it was written out (or failed). */
  send(data: string | Uint8Array, callback?: (error?: Error | null) => void): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Destroys the connection at once. */
  terminate(): void;
  /** Stops reading from the socket. */
  pause(): void;
  /** Reads from the socket again. */
  resume(): void;
  /** Listens to incoming messages. */
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): unknown;
  /** Listens to the socket's close. */
  on(event: "close", listener: () => void): unknown;
  /** Removes a message listener. */
  off(event: "message", listener: (data: unknown, isBinary: boolean) => void): unknown;
  /** Removes a close listener. */
  off(event: "close", listener: () => void): unknown;
}

const OPEN = 1;

/** Ends `s` with `reason` (`undefined`: a normal disposal) and disposes it. */
function endScope(s: Scope, request: RequestLike, reason: unknown): void {
  if (s.isDisposed) return;
  if (reason !== undefined && !s.isAborted) s.cancel(reason);
  disposeScope(s)?.catch((error: unknown) => {
    request.log.error({ err: error }, "go-go-scope: disposing the request scope failed");
  });
}

interface RequestLike {
  readonly id: string;
  readonly log: { error(obj: unknown, msg?: string): void };
}

/**
 * @internal Ends `s` when `socket`'s connection ends, with the reason it
 * ended for: the server's `close()`/`terminate()` disposes it normally, the
 * client's closing handshake or a dropped connection cancels it with a
 * `ClientDisconnectedError`. Called by the plugin for every websocket
 * connection; applications never call it.
 */
export function watchSocket(socket: WebSocketLike, request: RequestLike, s: Scope): void {
  const own = socket as WebSocketLike & { close: unknown; terminate: unknown };
  const close = socket.close;
  const terminate = socket.terminate;
  let ended = false;
  const end = (reason: unknown) => {
    if (ended) return;
    ended = true;
    socket.off("close", onSocketClose);
    // Back to the prototype's methods.
    Reflect.deleteProperty(own, "close");
    Reflect.deleteProperty(own, "terminate");
    endScope(s, request, reason);
  };
  const clientLeft = () =>
    new ClientDisconnectedError(`Client closed the websocket (request ${request.id})`);
  const onSocketClose = () => end(clientLeft());
  // ws answers the client's closing handshake by calling close() itself, with
  // `_closeFrameReceived` already set; the server's own close() comes first.
  own.close = function (this: WebSocketLike, code?: number, reason?: string): void {
    const fromClient = (this as { _closeFrameReceived?: boolean })._closeFrameReceived === true;
    end(fromClient ? clientLeft() : undefined);
    close.call(this, code, reason);
  };
  own.terminate = function (this: WebSocketLike): void {
    end(undefined);
    terminate.call(this);
  };
  socket.on("close", onSocketClose);
}

/**
 * Options of {@linkcode socketChannel}.
 *
 * @typeParam In The incoming messages' type.
 * @typeParam Out The outgoing messages' type.
 *
 * @example
 * ```ts
 * import type { SocketChannelOptions } from "@go-go-scope/adapter-fastify";
 *
 * const options: SocketChannelOptions<string, string> = { buffer: 32, backpressure: "drop-oldest" };
 * console.log(options.buffer); // 32
 * ```
 */
export interface SocketChannelOptions<In, Out> {
  /**
   * Messages each channel holds. Incoming: when full, the socket stops being
   * read (the client's sends then wait in TCP). Outgoing: see `backpressure`.
   * @default 16
   */
  buffer?: number;
  /** What `outgoing.send()` does when its buffer is full. @default "block" */
  backpressure?: Backpressure;
  /** Turns a received message into a value. @default text as a string, binary as bytes */
  parse?: (data: string | Uint8Array, isBinary: boolean) => In;
  /** Turns a value into a message. @default strings and bytes as they are, others as JSON */
  serialize?: (value: Out) => string | Uint8Array;
}

/**
 * The channels of {@linkcode socketChannel}.
 *
 * @typeParam In The incoming messages' type.
 * @typeParam Out The outgoing messages' type.
 */
export interface SocketChannels<In, Out> {
  /** Messages the client sent, parsed, in order; closed when the connection ends. */
  readonly incoming: Channel<In>;
  /** Messages to send, in order; closing it closes the socket once they are sent. */
  readonly outgoing: Channel<Out>;
}

const KNOWN = ["buffer", "backpressure", "parse", "serialize"] as const;
const WHAT = "Cannot create socket channel";

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) {
    const chunks = data as Uint8Array[];
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
  return new TextEncoder().encode(String(data));
}

const decoder = new TextDecoder();

function defaultParse(data: string | Uint8Array): unknown {
  return data;
}

/** The close code for a scope that ended with `reason`: 1001 going away, 1011 server error. */
function closeCode(reason: unknown): number {
  if (reason instanceof ServerClosingError) return 1001;
  if (reason instanceof AbortError || reason instanceof TimeoutError) return 1000;
  return 1011;
}

function defaultSerialize(value: unknown): string | Uint8Array {
  return typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value);
}

/**
 * Pipes channels over a websocket, the websocket twin of `streamEvents`:
 *
 * - `incoming` receives every message the client sends (through `parse`).
 *   When it is full, the socket is paused until there is room, so a client
 *   that floods the server is slowed down by TCP instead of filling memory.
 * - What is sent on `outgoing` is written to the socket in order (through
 *   `serialize`) by a task of `s`, one message at a time: the writer waits
 *   until the socket has written each one out (its `bufferedAmount` back to
 *   what the kernel took). When the client stops reading, the writer waits,
 *   `outgoing` fills, and `outgoing.send()` waits (or drops, after
 *   `backpressure`): a client that never reads costs at most `buffer`
 *   messages and one in the socket's queue.
 * - Closing `outgoing` closes the socket (code 1000) once its messages are
 *   written.
 * - When the connection ends, both channels close; when `s` ends first
 *   (timeout, server error, `app.close()`), both close and so does the
 *   socket (code 1000; 1001 when the server closes; 1011 after an error).
 *
 * @typeParam In The incoming messages' type.
 * @typeParam Out The outgoing messages' type.
 * @param s The scope the channels and the writer belong to (`request.scope`).
 * @param socket The socket `@fastify/websocket` handed the handler.
 * @param options See {@linkcode SocketChannelOptions}.
 * @returns The two channels.
 * @throws {TypeError | RangeError} If an option is invalid.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import fastifyWebsocket from "@fastify/websocket";
 * import { fastifyGoGoScope, socketChannel } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * await app.register(fastifyWebsocket);
 * app.get("/echo", { websocket: true }, (socket, request) => {
 *   const { incoming, outgoing } = socketChannel<string, string>(request.scope, socket);
 *   request.scope.task(async () => {
 *     for await (const text of incoming) await outgoing.send(`echo: ${text}`);
 *   });
 * });
 * await app.ready();
 * await app.close();
 * ```
 */
export function socketChannel<In = string, Out = string>(
  s: Scope,
  socket: WebSocketLike,
  options: SocketChannelOptions<In, Out> = {},
): SocketChannels<In, Out> {
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
  const { buffer = 16, backpressure = "block" } = options;
  assertInteger(WHAT, "buffer", buffer, 0);
  if (options.parse !== undefined) assertFunction(WHAT, "parse", options.parse);
  if (options.serialize !== undefined) assertFunction(WHAT, "serialize", options.serialize);
  const parse = (options.parse ?? defaultParse) as (data: string | Uint8Array, b: boolean) => In;
  const serialize = (options.serialize ?? defaultSerialize) as (value: Out) => string | Uint8Array;

  const incoming = s.channel<In>({ buffer });
  const outgoing = s.channel<Out>({ buffer, backpressure });

  let paused = false;
  const onMessage = (data: unknown, isBinary: boolean) => {
    let value: In;
    try {
      value = parse(isBinary ? toBytes(data) : decoder.decode(toBytes(data)), isBinary);
    } catch (error) {
      s.logger.error({ err: error }, "websocket message could not be parsed; closing the socket");
      if (socket.readyState === OPEN) socket.close(1007, "Invalid message");
      return;
    }
    const sent = incoming.send(value);
    if (paused) return;
    // Resolved at once while there is room: only a full channel pauses reading.
    let settled = false;
    sent.then(() => {
      settled = true;
      if (paused) {
        paused = false;
        socket.resume();
      }
    }, () => {});
    queueMicrotask(() => {
      if (!settled && !incoming.isClosed) {
        paused = true;
        socket.pause();
      }
    });
  };
  const onClose = () => {
    incoming.close();
    outgoing.close();
  };
  const { signal } = s;
  const onAbort = () => {
    if (socket.readyState !== OPEN) return;
    const code = closeCode(s.abortReason);
    socket.close(code, code === 1011 ? "Server error" : code === 1001 ? "Server closing" : "");
  };
  const detach = () => {
    socket.off("message", onMessage);
    socket.off("close", onClose);
    signal.removeEventListener("abort", onAbort);
  };
  socket.on("message", onMessage);
  socket.on("close", onClose);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  s.onDispose(detach);

  s.task(async ({ signal }) => {
    for await (const value of outgoing) {
      if (socket.readyState !== OPEN || signal.aborted) return;
      const data = serialize(value);
      // One message at a time: wait until the socket has written it out. A
      // client that does not read stops this writer (its queue never drains),
      // and a broken connection reports its error here instead of letting a
      // fast producer spin on a dead socket.
      const error = await new Promise<Error | undefined>((resolve) => {
        const done = (err?: Error | null) => {
          signal.removeEventListener("abort", aborted);
          resolve(err ?? undefined);
        };
        const aborted = () => done(undefined);
        signal.addEventListener("abort", aborted, { once: true });
        socket.send(data, done);
      });
      if (error !== undefined) return;
    }
    if (!signal.aborted && socket.readyState === OPEN) socket.close(1000, "");
  }, { name: "websocket-writer" });

  return { incoming, outgoing };
}
