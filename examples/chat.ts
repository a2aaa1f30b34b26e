/**
 * Chat example: a page (`GET /`) whose WebSocket joins one room
 * (`GET /chat`), through `@fastify/websocket` and `socketChannel()`.
 *
 * ```ts
 * await app.register(chatExample);
 * ```
 *
 * Try it: open http://127.0.0.1:3000/ in two tabs.
 *
 * The room is a `broadcast()` channel of the root scope (`app.scope`): every
 * connection subscribes to it, and `app.close()` closes it with the root.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
// In an application: from '@go-go-scope/adapter-fastify'.
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../src/fastify/mod.ts";
import { socketChannel } from "../src/fastify/websocket.ts";

/** A chat message as the page receives it. */
export interface ChatMessage {
  from: string;
  text: string;
}

/** How a connection ended, for {@linkcode ChatExampleOptions.onConnectionEnd}. */
export interface ConnectionSummary {
  /** The request's id. */
  requestId: string;
  /** The name the page chose. */
  name: string;
  /** Messages this connection sent to the room. */
  said: number;
  /** The `code` of the scope's abort reason (`GGS_ERR_CLIENT_DISCONNECTED`, ...). */
  reason: string;
}

/** Options of {@linkcode chatExample}. */
export interface ChatExampleOptions {
  /** The plugin's options. @default { name: "chat-example", timeout: 30000 } */
  scope?: FastifyGoGoScopeOptions;
  /** Called when a connection's scope ends; the browser test watches it. */
  onConnectionEnd?: (summary: ConnectionSummary) => void;
}

/**
 * Registers `fastifyGoGoScope` (first), `@fastify/websocket`, the page at
 * `GET /` and the room at `GET /chat?name=NAME`.
 *
 * @param app The Fastify instance.
 * @param options See {@linkcode ChatExampleOptions}.
 */
export async function chatExample(
  app: FastifyInstance,
  options: ChatExampleOptions = {},
): Promise<void> {
  const { scope = { name: "chat-example", timeout: 30_000 }, onConnectionEnd } = options;
  await app.register(fastifyGoGoScope, scope);
  await app.register(fastifyWebsocket);
  // Lives as long as the app; every connection subscribes.
  const room = app.scope.broadcast<ChatMessage>();

  let page: Promise<string> | undefined;
  app.get("/", async (_request, reply) => {
    page ??= readFile(new URL("./public/chat.html", import.meta.url), "utf8").catch((error) => {
      page = undefined;
      throw error;
    });
    return reply.type("text/html; charset=utf-8").send(await page);
  });

  // A websocket route gets no deadline from the plugin's 30 s timeout.
  app.get<{ Querystring: { name?: string } }>("/chat", { websocket: true }, (socket, request) => {
    const name = String(request.query.name ?? "anonymous").slice(0, 32);
    const { incoming, outgoing } = socketChannel<string, ChatMessage>(request.scope, socket, {
      buffer: 32,
      backpressure: "drop-oldest",
    });
    const messages = room.subscribe();
    let said = 0;
    request.scope.onDispose(() => {
      void messages.return?.();
      const reason = request.scope.abortReason as { code?: string } | undefined;
      onConnectionEnd?.({ requestId: request.id, name, said, reason: reason?.code ?? "unknown" });
    });
    // The room to this socket. `outgoing` drops its oldest message when full,
    // so a member that reads slowly misses messages instead of slowing the
    // room down, and its subscription's queue stays short.
    request.scope.task(async () => {
      for await (const message of messages) {
        if (!await outgoing.send(message)) break;
      }
    }, { name: "chat-writer" });
    // This socket to the room; ends when the page leaves (the channel closes)
    // or the scope ends.
    request.scope.task(async () => {
      void room.send({ from: "server", text: `${name} joined (${room.subscriberCount} here)` });
      for await (const text of incoming) {
        said++;
        void room.send({ from: name, text: text.slice(0, 1000) });
      }
    }, { name: "chat-reader" });
  });
}
