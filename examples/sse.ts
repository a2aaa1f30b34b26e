/**
 * Server-sent events example: a page (`GET /`) whose EventSource subscribes
 * to `GET /events`, a stream fed by a producer task of the request scope
 * through `@fastify/sse`.
 *
 * Like the other examples, it registers its own `fastifyGoGoScope` (and
 * `@fastify/sse`) inside its encapsulated context:
 *
 * ```ts
 * await app.register(sseExample);
 * ```
 *
 * Try it: open http://127.0.0.1:3000/?count=20&interval=500, or
 * `curl -N -H 'Accept: text/event-stream' 'http://127.0.0.1:3000/events?count=5'`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { fastifySSE } from "@fastify/sse";
// In an application: from '@go-go-scope/adapter-fastify'.
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../src/fastify/mod.ts";
import { streamEvents } from "../src/fastify/sse.ts";

/** How a stream of `/events` ended, for {@linkcode SSEExampleOptions.onStreamEnd}. */
export interface StreamSummary {
  /** The request's id. */
  requestId: string;
  /** Tick events the producer handed to the channel. */
  sent: number;
  /** `"done"`: all ticks sent; `"aborted"`: the client left (or a timeout passed). */
  reason: "done" | "aborted";
}

/** Options of {@linkcode sseExample}. */
export interface SSEExampleOptions {
  /** The plugin's options. @default { name: "sse-example", timeout: 30000 } */
  scope?: FastifyGoGoScopeOptions;
  /** Called when a producer stops; the browser test watches it. */
  onStreamEnd?: (summary: StreamSummary) => void;
}

interface EventsQuery {
  count: number;
  interval: number;
}

/** Waits `ms`, or less if `signal` aborts (then resolves too: the caller checks the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Registers `fastifyGoGoScope`, `@fastify/sse`, the page at `GET /` and the
 * stream at `GET /events?count=N&interval=MS`. Register it with
 * `app.register()` so that both plugins stay inside its context.
 *
 * @param app The Fastify instance.
 * @param options See {@linkcode SSEExampleOptions}.
 */
export async function sseExample(
  app: FastifyInstance,
  options: SSEExampleOptions = {},
): Promise<void> {
  const { scope = { name: "sse-example", timeout: 30_000 }, onStreamEnd } = options;
  await app.register(fastifyGoGoScope, scope);
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });

  // Read on the first visit (and kept), so that building the app needs no file.
  let page: Promise<string> | undefined;
  app.get("/", async (_request, reply) => {
    page ??= readFile(new URL("./public/index.html", import.meta.url), "utf8").catch((error) => {
      page = undefined; // try again next time
      throw error;
    });
    return reply.type("text/html; charset=utf-8").send(await page);
  });

  app.get<{ Querystring: EventsQuery }>("/events", {
    // SSE-only: every client that accepts a stream gets one (curl and health checks too);
    // one that refuses text/event-stream (Accept: application/json) gets a 406.
    sse: "only",
    // A stream lives as long as the client wants it: not the plugin's 30 s deadline.
    config: { scope: { timeout: false } },
    schema: {
      querystring: {
        type: "object",
        properties: {
          count: { type: "integer", minimum: 1, maximum: 1_000_000, default: 100 },
          interval: { type: "integer", minimum: 1, maximum: 60_000, default: 1000 },
        },
      },
    },
  }, async (request, reply) => {
    const { count, interval } = request.query;
    // A reconnecting EventSource sends the last id it saw: resume after it.
    const lastId = reply.sse.lastEventId;
    const last = lastId === null ? NaN : Number(lastId);
    const first = Number.isInteger(last) && last >= 0 ? last + 1 : 0;
    let sent = 0;

    await streamEvents(reply, async (events, { signal }) => {
      try {
        for (let n = first; n < count; n++) {
          const tick = { id: String(n), event: "tick", data: { n, at: new Date().toISOString() } };
          // false: the channel closed because the client left.
          if (!await events.send(tick)) return;
          sent++;
          await sleep(interval, signal);
          if (signal.aborted) return;
        }
        await events.send({ event: "end", data: { count } });
      } finally {
        const reason = signal.aborted ? "aborted" : "done";
        request.log.info({ sent, reason }, "event stream producer stopped");
        onStreamEnd?.({ requestId: request.id, sent, reason });
      }
    }, { buffer: 16 });
  });
}
