// Server-sent events through @fastify/sse from request scopes, over real
// sockets on 127.0.0.1: events in order, a disconnect that stops the
// producer, a stalled reader that blocks it, a failing producer that ends
// the stream cleanly, and route timeouts.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it, type TestContext } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { fastifySSE } from "@fastify/sse";
import { type Channel, ClientDisconnectedError, TimeoutError } from "../../src/core/mod.ts";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import {
  sendEvents,
  type SSEEvent,
  SSENotAcceptableError,
  streamEvents,
} from "../../src/fastify/sse.ts";

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string };
}

interface ParsedEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A Fastify app with the plugin and @fastify/sse, listening on 127.0.0.1:0, closed after the test. */
async function start(
  t: TestContext,
  routes: (app: FastifyInstance) => void,
  timeout?: number,
): Promise<{ app: FastifyInstance; port: number; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const app = Fastify({
    logger: {
      level: "info",
      stream: { write: (line: string) => void logs.push(JSON.parse(line)) },
    },
  });
  await app.register(fastifyGoGoScope, timeout === undefined ? {} : { timeout });
  await app.register(fastifySSE, { heartbeatInterval: 0 });
  routes(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => app.close());
  const address = app.server.address();
  assert.ok(address !== null && typeof address === "object");
  return { app, port: address.port, logs };
}

function parse(text: string): ParsedEvent[] {
  return text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const event: ParsedEvent = { data: "" };
    const data: string[] = [];
    for (const line of block.split("\n")) {
      const colon = line.indexOf(": ");
      const [field, value] = colon < 0 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 2)];
      if (field === "id") event.id = value;
      else if (field === "event") event.event = value;
      else if (field === "data") data.push(value);
    }
    event.data = data.join("\n");
    return event;
  });
}

/** GETs `path` as an EventSource would and reads the whole stream. */
async function readStream(port: number, path: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { accept: "text/event-stream" },
  });
  const text = await response.text();
  return { response, events: parse(text) };
}

/** Opens a raw socket, sends a GET for `path` and collects what arrives. */
async function rawGet(port: number, path: string) {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  let received = "";
  const waiters: (() => void)[] = [];
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  return {
    socket,
    /** Resolves once `n` complete events have arrived. */
    async events(n: number): Promise<void> {
      while (received.split("\n\n").length - 1 < n) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it holds; fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) {
      assert.fail(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await sleep(10);
  }
  return performance.now() - started;
}

/** What a producer reports about itself. */
interface ProducerProbe {
  sent: number;
  waiting: boolean;
  stopped: boolean;
  reason: unknown;
  channel?: Channel<SSEEvent>;
  handlerReturned: boolean;
}

function probe(): ProducerProbe {
  return { sent: 0, waiting: false, stopped: false, reason: undefined, handlerReturned: false };
}

/** Sends `total` events of `size` bytes as fast as the channel takes them. */
async function produce(
  p: ProducerProbe,
  events: Channel<SSEEvent>,
  signal: AbortSignal,
  total: number,
  size = 8,
): Promise<void> {
  p.channel = events;
  const pad = "x".repeat(size);
  try {
    for (let n = 0; n < total && !signal.aborted; n++) {
      p.waiting = true;
      const ok = await events.send({ id: String(n), data: { n, pad } });
      p.waiting = false;
      if (!ok) return;
      p.sent++;
      if (n % 8 === 7) await sleep(1);
    }
  } finally {
    p.waiting = false;
    p.reason = signal.reason;
    p.stopped = true;
  }
}

/** Two ways to stream: the plain `reply.sse.send(channel)` and the `streamEvents` helper. */
const MODES = {
  "reply.sse.send(channel)":
    (p: ProducerProbe, total: number, size?: number, buffer = 8) =>
    async (request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      const events = request.scope.channel<SSEEvent>({ buffer });
      request.scope.task(async ({ signal }) => {
        try {
          await produce(p, events, signal, total, size);
        } finally {
          events.close();
        }
      });
      await reply.sse.send(events);
      p.handlerReturned = true;
    },
  "streamEvents()":
    (p: ProducerProbe, total: number, size?: number, buffer = 8) =>
    async (_request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      await streamEvents(reply, (events, { signal }) => produce(p, events, signal, total, size), {
        buffer,
      });
      p.handlerReturned = true;
    },
} as const;

for (const [mode, handler] of Object.entries(MODES)) {
  describe(`sse with ${mode}`, () => {
    it("streams every event in order and ends when the producer is done (route timeout: false)", async (t) => {
      const p = probe();
      // The plugin's 100 ms deadline would cut the stream; the route opts out.
      const { port } = await start(t, (app) => {
        app.get("/events", { sse: true, config: { scope: { timeout: false } } }, handler(p, 200));
      }, 100);
      const { response, events } = await readStream(port, "/events");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      assert.equal(response.headers.get("cache-control"), "no-cache");
      assert.deepEqual(events.map((e) => e.id), Array.from({ length: 200 }, (_, n) => String(n)));
      assert.deepEqual(JSON.parse(events[199]!.data), { n: 199, pad: "xxxxxxxx" });
      assert.equal(p.sent, 200);
      await until(() => p.handlerReturned, 1000, "the handler to return");
      assert.equal(p.reason, undefined, "the producer was not aborted");
    });

    it("a client that leaves aborts the scope, closes the channel and stops the producer", async (t) => {
      const p = probe();
      const { port } = await start(t, (app) => {
        app.get(
          "/events",
          { sse: true, config: { scope: { timeout: false } } },
          handler(p, Infinity),
        );
      });
      const client = await rawGet(port, "/events");
      await client.events(5);
      assert.equal(p.stopped, false);
      client.socket.destroy();
      const elapsed = await until(() => p.stopped, 1000, "the producer to stop");
      assert.ok(p.reason instanceof ClientDisconnectedError, `reason: ${String(p.reason)}`);
      assert.equal(p.channel?.isClosed, true);
      await until(() => p.handlerReturned, 1000, "the handler to return");
      assert.ok(elapsed < 1000);
    });

    it("a client that stops reading blocks the producer on a full channel", async (t) => {
      const p = probe();
      const total = 100_000;
      const size = 64 * 1024;
      const { port } = await start(t, (app) => {
        app.get(
          "/events",
          { sse: true, config: { scope: { timeout: false } } },
          handler(p, total, size),
        );
      });
      const client = await rawGet(port, "/events");
      client.socket.pause(); // reads nothing more: the socket buffers fill, then the channel
      // Wait until the producer has been stuck in send() for 200 ms.
      let last = -1;
      let still = 0;
      await until(
        () => {
          still = p.waiting && p.sent === last ? still + 1 : 0;
          last = p.sent;
          return still >= 20;
        },
        10_000,
        "the producer to block",
      );
      assert.equal(p.channel?.size, 8, "the channel is full");
      // What was produced fits in the socket buffers plus the channel: a few
      // MB, nowhere near the 6.5 GB the producer wanted to send.
      assert.ok(p.sent < 1000, `the producer sent ${p.sent} events of 64 KB`);
      assert.equal(p.stopped, false);
      client.socket.destroy();
      await until(() => p.stopped, 1000, "the producer to stop");
      assert.ok(p.reason instanceof ClientDisconnectedError);
      if (mode === "streamEvents()") {
        // @fastify/sse's own send() waits for a 'drain' that never comes; the helper returns.
        await until(() => p.handlerReturned, 1000, "the handler to return");
      }
    });
  });
}

describe("sse with streamEvents()", () => {
  it("a producer that fails ends the stream cleanly and logs the error", async (t) => {
    const { port, logs } = await start(t, (app) => {
      app.get("/events", { sse: true }, async (_request, reply) => {
        await streamEvents(reply, async (events) => {
          for (let n = 0; n < 3; n++) await events.send({ id: String(n), data: n });
          throw new Error("database went away");
        });
      });
    });
    const { response, events } = await readStream(port, "/events");
    assert.equal(response.status, 200);
    assert.deepEqual(events.map((e) => e.data), ["0", "1", "2"]);
    await until(() => logs.some((l) => l.level === 50), 1000, "the error log");
    const errors = logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.err?.message, "database went away");
    assert.match(errors[0]!.msg, /SSE producer failed/);
  });

  it("a route timeout ends the stream and aborts the producer with a TimeoutError", async (t) => {
    const p = probe();
    const { port } = await start(t, (app) => {
      app.get(
        "/events",
        { sse: true, config: { scope: { timeout: 150 } } },
        async (_request, reply) => {
          await streamEvents(reply, async (events, { signal }) => {
            p.channel = events;
            for (let n = 0; !signal.aborted; n++) {
              if (!await events.send({ id: String(n), data: n })) break;
              p.sent++;
              await sleep(10);
            }
            p.reason = signal.reason;
            p.stopped = true;
          });
        },
      );
    });
    const { response, events } = await readStream(port, "/events");
    assert.equal(response.status, 200);
    assert.ok(events.length > 0 && events.length <= p.sent);
    assert.deepEqual(events.map((e) => e.id), events.map((_, n) => String(n)));
    await until(() => p.stopped, 1000, "the producer to stop");
    assert.ok(p.reason instanceof TimeoutError, `reason: ${String(p.reason)}`);
  });

  it("rejects a buffer that is not an integer >= 0", async (t) => {
    let caught: unknown;
    const { port } = await start(t, (app) => {
      app.get("/events", { sse: true }, async (_request, reply) => {
        try {
          await streamEvents(reply, () => {}, { buffer: -1 });
        } catch (error) {
          caught = error;
          throw error;
        }
      });
    });
    const { response } = await readStream(port, "/events");
    assert.equal(response.status, 500);
    assert.ok(caught instanceof RangeError);
    assert.match(caught.message, /"buffer" must be an integer >= 0, received -1/);
  });
});

describe("sse with sendEvents()", () => {
  it("streams an async generator and closes it when the client leaves", async (t) => {
    let yielded = 0;
    let finalized = false;
    const { port } = await start(t, (app) => {
      app.get("/events", { sse: true }, async (_request, reply) => {
        async function* ticks() {
          try {
            for (let n = 0;; n++) {
              yielded++;
              yield { id: String(n), data: n };
              await sleep(5);
            }
          } finally {
            finalized = true;
          }
        }
        await sendEvents(reply, ticks());
      });
    });
    const client = await rawGet(port, "/events");
    await client.events(3);
    client.socket.destroy();
    await until(() => finalized, 1000, "the generator's finally block");
    const after = yielded;
    await sleep(50);
    assert.equal(yielded, after, "nothing is pulled after the client left");
  });
});

describe("sse routes and clients that do not ask for a stream", () => {
  /** An app served through inject(): the plugin, @fastify/sse, and `routes`. */
  async function injectApp(t: TestContext, routes: (app: FastifyInstance) => void) {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    await app.register(fastifySSE, { heartbeatInterval: 0 });
    routes(app);
    t.after(() => app.close());
    return app;
  }

  it('{ sse: "only" } streams to a client without Accept and answers 406 to one that refuses', async (t) => {
    let started = 0;
    const app = await injectApp(t, (app) => {
      app.get("/events", { sse: "only" }, async (_request, reply) => {
        await streamEvents(reply, async (events) => {
          started++;
          for (let n = 0; n < 2; n++) await events.send({ id: String(n), data: n });
        });
      });
    });
    const plain = await app.inject("/events");
    assert.equal(plain.statusCode, 200);
    assert.match(String(plain.headers["content-type"]), /^text\/event-stream/);
    assert.deepEqual(parse(plain.body).map((e) => e.data), ["0", "1"]);

    const refused = await app.inject({ url: "/events", headers: { accept: "application/json" } });
    assert.equal(refused.statusCode, 406);
    assert.match(refused.json().message, /text\/event-stream/);
    assert.equal(started, 1, "the producer never starts for the refused request");
  });

  for (const helper of ["streamEvents", "sendEvents"] as const) {
    it(`${helper}() on a { sse: true } route answers a plain request with a 406 that names the fix`, async (t) => {
      let started = false;
      let caught: unknown;
      const app = await injectApp(t, (app) => {
        app.get("/events", { sse: true }, async (_request, reply) => {
          try {
            if (helper === "streamEvents") {
              await streamEvents(reply, () => {
                started = true;
              });
            } else {
              await sendEvents(
                reply,
                (async function* () {
                  started = true;
                  yield { data: 1 };
                })(),
              );
            }
          } catch (error) {
            caught = error;
            throw error;
          }
        });
      });
      const response = await app.inject("/events");
      assert.equal(response.statusCode, 406);
      const body = response.json();
      assert.equal(body.code, "GGS_ERR_SSE_NOT_ACCEPTABLE");
      assert.match(body.message, /Accept: text\/event-stream/);
      assert.match(body.message, /\{ sse: "only" \}/);
      assert.ok(caught instanceof SSENotAcceptableError);
      assert.equal(started, false);

      const asked = await app.inject({ url: "/events", headers: { accept: "text/event-stream" } });
      assert.equal(asked.statusCode, 200);
    });
  }
});
