/**
 * The Fastify plugin of `@go-go-scope/adapter-fastify`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope, { name: "my-api" });
 * console.log(app.scope.name); // my-api
 * await app.close();
 * ```
 *
 * @module
 */
export { default, fastifyGoGoScope } from "./plugin.ts";
export type {
  FastifyGoGoScopeOptions,
  InspectorOptions,
  MeterLike,
  MetricsOptions,
  RouteScopeOptions,
  TracerLike,
  TracingOptions,
} from "./plugin.ts";
export {
  type EventProducer,
  sendEvents,
  type SSEEvent,
  SSENotAcceptableError,
  type SSEReply,
  streamEvents,
  type StreamEventsOptions,
} from "./sse.ts";
export {
  socketChannel,
  type SocketChannelOptions,
  type SocketChannels,
  type WebSocketLike,
} from "./websocket.ts";
