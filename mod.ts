/**
 * `@go-go-scope/adapter-fastify`: every Fastify request gets a
 * structured-concurrency scope (`request.scope`) that is cancelled when the
 * client leaves and disposed when the response ends.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope, { name: "my-api", timeout: 30000 });
 * app.get("/answer", async (request) => {
 *   const [err, answer] = await request.scope.task(() => 42, { retry: "exponential" });
 *   if (err) throw err;
 *   return { answer };
 * });
 * const res = await app.inject("/answer");
 * console.log(res.json()); // { answer: 42 }
 * await app.close();
 * ```
 *
 * @module
 */

// The Fastify plugin
export { default, fastifyGoGoScope } from "./src/fastify/mod.ts";
// Its options, the observability ones included (docs/observability.md)
export type {
  FastifyGoGoScopeOptions,
  InspectorOptions,
  MeterLike,
  MetricsOptions,
  RouteScopeOptions,
  TracerLike,
  TracingOptions,
} from "./src/fastify/mod.ts";

// Streaming through @fastify/sse
export {
  type EventProducer,
  sendEvents,
  type SSEEvent,
  SSENotAcceptableError,
  type SSEReply,
  streamEvents,
  type StreamEventsOptions,
} from "./src/fastify/mod.ts";

// Websockets through @fastify/websocket
export {
  socketChannel,
  type SocketChannelOptions,
  type SocketChannels,
  type WebSocketLike,
} from "./src/fastify/mod.ts";

// The core (also available on its own as "@go-go-scope/adapter-fastify/core")
export * from "./src/core/mod.ts";
