// Long-lived routes: websocket routes (`{ websocket: true }` or a `wsHandler`,
// from @fastify/websocket) and server-sent events routes (`{ sse: ... }`, from
// @fastify/sse). Decided once per route in the plugin's onRoute hook, so plain
// routes pay nothing: no deadline from the plugin's `timeout` (the plugin's
// `connectionTimeout` or the route's `config.scope.timeout` instead), a
// handler wrapper that records a server error as the scope's reason, and a
// registry of live connections that `app.close()` cancels with a
// ServerClosingError. Never re-exported by mod.ts.
import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import { type Scope, ServerClosingError } from "../core/mod.ts";
import { watchSocket, type WebSocketLike } from "./websocket.ts";

/** What kind of long-lived route a route is, if any. */
export type LongLivedKind = "websocket" | "sse";

/** The kind of `route`, or `undefined` for an ordinary route. */
export function longLivedKind(route: RouteOptions): LongLivedKind | undefined {
  const options = route as RouteOptions & {
    websocket?: unknown;
    wsHandler?: unknown;
    sse?: unknown;
  };
  if (options.websocket === true || typeof options.wsHandler === "function") return "websocket";
  if (options.sse !== undefined && options.sse !== false) return "sse";
  return undefined;
}

type AnyHandler = (this: unknown, ...args: unknown[]) => unknown;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** Cancels `s` with a handler's error, unless it already ended for another reason. */
function failed(s: Scope, error: unknown): void {
  if (!s.isAborted) s.cancel(error);
}

/** Calls `handler` and cancels `s` with what it throws or rejects with (then rethrows). */
function callAndWatch(s: Scope, handler: AnyHandler, self: unknown, args: unknown[]): unknown {
  let result: unknown;
  try {
    result = handler.apply(self, args);
  } catch (error) {
    failed(s, error);
    throw error;
  }
  if (!isPromiseLike(result)) return result;
  return Promise.resolve(result).then(undefined, (error: unknown) => {
    failed(s, error);
    throw error;
  });
}

/**
 * The long-lived side of one plugin instance. Created at registration; its
 * registry of live connection scopes is created on the first connection.
 */
export class LongLivedRoutes {
  readonly #connectionTimeout: number | undefined;
  readonly #wrapWebsocket: boolean;
  #live: Set<Scope> | undefined;

  /**
   * @param fastify The instance the plugin is registered on.
   * @param connectionTimeout The deadline of long-lived routes (ms), if any.
   */
  constructor(fastify: FastifyInstance, connectionTimeout: number | undefined) {
    this.#connectionTimeout = connectionTimeout;
    // @fastify/websocket replaces a websocket route's handler in its own
    // onRoute hook. Ours sees the application's handler only when it runs
    // first, that is when this plugin is registered before @fastify/websocket.
    this.#wrapWebsocket = !fastify.hasPlugin("@fastify/websocket");
    if (!this.#wrapWebsocket) {
      fastify.log.warn(
        "@go-go-scope/adapter-fastify was registered after @fastify/websocket: websocket " +
          "scopes end only when the TCP socket closes, always with ClientDisconnectedError. " +
          "Register @go-go-scope/adapter-fastify first.",
      );
    }
    // Runs before @fastify/websocket's preClose (registered later), which
    // closes every socket: the scopes get their reason first.
    fastify.addHook("preClose", (done) => {
      this.#closing();
      done();
    });
  }

  /**
   * Settles a long-lived route in onRoute: returns the deadline its requests
   * get and wraps its handler.
   *
   * @param route The route's options (its handler is replaced).
   * @param kind Its kind.
   * @param timeout The route's own `config.scope.timeout`, if any.
   */
  route(
    route: RouteOptions,
    kind: LongLivedKind,
    timeout: number | false | undefined,
  ): number | false {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // A HEAD route is never upgraded nor streamed (@fastify/websocket answers it 404).
    if (!methods.every((method) => method === "HEAD")) this.#wrap(route, kind);
    return timeout === undefined ? (this.#connectionTimeout ?? false) : timeout;
  }

  #wrap(route: RouteOptions, kind: LongLivedKind): void {
    const options = route as RouteOptions & { wsHandler?: AnyHandler; websocket?: boolean };
    if (kind === "websocket") {
      if (!this.#wrapWebsocket) return;
      const key = options.websocket === true ? "handler" : "wsHandler";
      const handler = (options as unknown as Record<string, AnyHandler>)[key]!;
      // deno-lint-ignore no-this-alias
      const routes = this;
      const wrapped = function (this: unknown, socket: unknown, request: unknown): unknown {
        const req = request as FastifyRequest;
        const s = req.scope;
        routes.#track(s);
        watchSocket(socket as WebSocketLike, req, s);
        return callAndWatch(s, handler, this, [socket, request]);
      };
      (options as unknown as Record<string, AnyHandler>)[key] = wrapped;
      return;
    }
    const handler = route.handler as unknown as AnyHandler;
    // deno-lint-ignore no-this-alias
    const routes = this;
    route.handler = function (this: unknown, request: unknown, reply: unknown): unknown {
      const s = (request as FastifyRequest).scope;
      routes.#track(s);
      return callAndWatch(s, handler, this, [request, reply]);
    } as unknown as RouteOptions["handler"];
  }

  #track(s: Scope): void {
    if (s.isDisposed) return;
    const live = this.#live ??= new Set();
    live.add(s);
    s.onDispose(() => void live.delete(s));
  }

  #closing(): void {
    const live = this.#live;
    if (live === undefined || live.size === 0) return;
    const reason = new ServerClosingError("Server closing: the application is shutting down");
    for (const s of [...live]) s.cancel(reason);
  }
}
