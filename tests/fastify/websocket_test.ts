// Websocket routes through @fastify/websocket over real sockets on 127.0.0.1:
// no deadline from the plugin's timeout, the reason every end gives the
// scope, socketChannel's backpressure, 200 sockets closing at once, and
// app.close() with sockets open.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it, type TestContext } from "node:test";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
import WebSocket from "ws";
import {
  AbortError,
  ClientDisconnectedError,
  type Scope,
  ServerClosingError,
  TimeoutError,
} from "../../src/core/mod.ts";
import {
  fastifyGoGoScope,
  type FastifyGoGoScopeOptions,
  socketChannel,
} from "../../src/fastify/mod.ts";
import { activeTimers, inBatches, listen, logCollector, sleep, waitFor } from "./_helpers.ts";

/** An app with the plugin (registered first) and @fastify/websocket, listening; closed after the test. */
async function start(
  t: TestContext,
  routes: (app: FastifyInstance) => void,
  options: FastifyGoGoScopeOptions = {},
): Promise<{ app: FastifyInstance; url: string; scopes: Scope[] }> {
  const { stream } = logCollector();
  const app = Fastify({ logger: { level: "fatal", stream } });
  await app.register(fastifyGoGoScope, options);
  await app.register(fastifyWebsocket);
  routes(app);
  const port = await listen(app);
  t.after(() => app.close());
  return { app, url: `ws://127.0.0.1:${port}`, scopes: [] };
}

/** Opens a client and waits for it to be open. */
async function connect(url: string): Promise<WebSocket> {
  const client = new WebSocket(url);
  client.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  return client;
}

function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  if (client.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: "" });
  return new Promise((resolve) =>
    client.once(
      "close",
      (code: number, reason: unknown) => resolve({ code, reason: String(reason) }),
    )
  );
}

function nextMessage(client: WebSocket): Promise<string> {
  return new Promise((resolve) => client.once("message", (data: unknown) => resolve(String(data))));
}

/** A route at /ws whose scopes are pushed on `scopes`; `extra` runs in the handler. */
function wsRoute(
  scopes: Scope[],
  extra: (socket: WebSocket, request: FastifyRequest) => void | Promise<void> = () => {},
  config?: Record<string, unknown>,
) {
  return (app: FastifyInstance) => {
    app.get("/ws", { websocket: true, ...(config ? { config } : {}) }, (socket, request) => {
      scopes.push(request.scope);
      return extra(socket as unknown as WebSocket, request);
    });
  };
}

describe("websocket routes: deadlines", () => {
  it("get no deadline from the plugin's timeout: tasks still run after it", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(
      t,
      wsRoute(scopes, (socket, request) => {
        socket.on("message", async () => {
          const [err, value] = await request.scope.task(() => "ran");
          socket.send(err ? err.constructor.name : value);
        });
      }),
      { timeout: 20 },
    );
    const client = await connect(url + "/ws");
    await sleep(80);
    client.send("go");
    assert.equal(await nextMessage(client), "ran");
    assert.equal(scopes[0]!.isAborted, false);
    client.close();
    await closed(client);
  });

  it("config.scope.timeout gives a websocket route a deadline; socketChannel then closes the socket", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(
      t,
      wsRoute(scopes, (socket, request) => void socketChannel(request.scope, socket), {
        scope: { timeout: 30 },
      }),
    );
    const client = await connect(url + "/ws");
    const { code } = await closed(client);
    assert.equal(code, 1000);
    assert.ok(scopes[0]!.abortReason instanceof TimeoutError);
  });

  it("connectionTimeout is the deadline of long-lived routes only", async (t) => {
    const scopes: Scope[] = [];
    const { app, url } = await start(t, (app) => {
      wsRoute(scopes)(app);
      app.get("/plain", async (request) => {
        const [err] = await request.scope.task(({ signal }) =>
          new Promise((resolve) => signal.addEventListener("abort", resolve))
        );
        return { err: err?.constructor.name };
      });
    }, { timeout: 100, connectionTimeout: 20 });
    const client = await connect(url + "/ws");
    await waitFor(() => scopes[0]?.isAborted === true, "the connection's deadline");
    assert.ok(scopes[0]!.abortReason instanceof TimeoutError);
    assert.equal((scopes[0]!.abortReason as TimeoutError).timeout, 20);
    const response = await app.inject("/plain");
    assert.deepEqual(response.json(), { err: "TimeoutError" });
    client.terminate();
  });

  it("rejects a bad connectionTimeout at registration", async () => {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(fastifyGoGoScope, { connectionTimeout: -1 });
      },
      {
        name: "RangeError",
        message: /"connectionTimeout" must be a finite number of milliseconds > 0/,
      },
    );
    await app.close().catch(() => {});
  });
});

describe("websocket routes: a scope read before the upgrade is handled", () => {
  it("an application onRequest hook reads request.scope: the scope lives with the connection", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(t, (app) => {
      app.addHook("onRequest", async (request) => {
        scopes.push(request.scope); // before the plugin's own route-level hook
      });
      wsRoute([], (socket, request) => {
        socket.on("message", async () => {
          const [err, value] = await request.scope.task(() => "alive");
          socket.send(err ? err.constructor.name : value);
        });
      })(app);
    });
    const client = await connect(url + "/ws");
    await sleep(30);
    assert.equal(scopes[0]!.isAborted, false, "not ended by the upgrade");
    client.send("go");
    assert.equal(await nextMessage(client), "alive");
    client.terminate();
    await waitFor(() => scopes[0]!.isDisposed, "disposal with the connection");
    assert.ok(scopes[0]!.abortReason instanceof ClientDisconnectedError);
  });
});

describe("websocket routes: the reason every end gives the scope", () => {
  it("the client's close: ClientDisconnectedError, at once", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(t, wsRoute(scopes));
    const client = await connect(url + "/ws");
    client.close(1000);
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal");
    assert.ok(scopes[0]!.abortReason instanceof ClientDisconnectedError);
    await closed(client);
  });

  it("a dropped connection: ClientDisconnectedError", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(t, wsRoute(scopes));
    const client = await connect(url + "/ws");
    client.terminate();
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal");
    assert.ok(scopes[0]!.abortReason instanceof ClientDisconnectedError);
  });

  it("the server's socket.close(): a normal disposal", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(t, wsRoute(scopes, (socket) => socket.close(4000, "bye")));
    const client = await connect(url + "/ws");
    assert.deepEqual(await closed(client), { code: 4000, reason: "bye" });
    const reason = scopes[0]!.abortReason;
    assert.ok(reason instanceof AbortError && !(reason instanceof ClientDisconnectedError));
    assert.equal((reason as Error).message, "Scope disposed");
  });

  it("the server's socket.terminate(): a normal disposal", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(t, wsRoute(scopes, (socket) => socket.terminate()));
    const client = await connect(url + "/ws");
    await closed(client);
    assert.equal((scopes[0]!.abortReason as Error).message, "Scope disposed");
  });

  it("a handler that throws: the scope ends with its error", async (t) => {
    const scopes: Scope[] = [];
    const boom = new Error("handler failed");
    const { url } = await start(
      t,
      wsRoute(scopes, async () => {
        await sleep(5);
        throw boom;
      }),
    );
    const client = await connect(url + "/ws");
    await closed(client);
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal");
    assert.equal(scopes[0]!.abortReason, boom);
  });

  it("app.close(): ServerClosingError, and socketChannel closes with 1001", async (t) => {
    const scopes: Scope[] = [];
    const { app, url } = await start(
      t,
      wsRoute(scopes, (socket, request) => void socketChannel(request.scope, socket)),
    );
    const client = await connect(url + "/ws");
    const done = closed(client);
    await app.close();
    assert.deepEqual(await done, { code: 1001, reason: "Server closing" });
    assert.ok(scopes[0]!.abortReason instanceof ServerClosingError);
    assert.equal(scopes[0]!.isDisposed, true);
  });

  it("injectWS() then a clean close() ends the scope at once, not after ws's close timeout", async (t) => {
    const scopes: Scope[] = [];
    const { app } = await start(t, wsRoute(scopes));
    const client = await app.injectWS("/ws");
    client.close();
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal", 1000);
    assert.ok(scopes[0]!.abortReason instanceof ClientDisconnectedError);
    client.terminate();
  });
});

describe("socketChannel()", () => {
  it("pipes incoming messages into a channel and the outgoing channel to the socket, in order", async (t) => {
    const scopes: Scope[] = [];
    const { url } = await start(
      t,
      wsRoute(scopes, (socket, request) => {
        const { incoming, outgoing } = socketChannel<string, { n: number; text: string }>(
          request.scope,
          socket,
        );
        request.scope.task(async () => {
          let n = 0;
          for await (const text of incoming) {
            if (text === "end") outgoing.close();
            else await outgoing.send({ n: n++, text });
          }
        });
      }),
    );
    const client = await connect(url + "/ws");
    const received: string[] = [];
    client.on("message", (data: unknown) => received.push(String(data)));
    const done = closed(client);
    for (const text of ["a", "b", "c", "end"]) client.send(text);
    // Closing `outgoing` closes the socket (1000) after what was queued.
    assert.equal((await done).code, 1000);
    assert.deepEqual(received.map((m) => JSON.parse(m)), [
      { n: 0, text: "a" },
      { n: 1, text: "b" },
      { n: 2, text: "c" },
    ]);
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal");
    assert.equal((scopes[0]!.abortReason as Error).message, "Scope disposed");
  });

  it("a client that never reads: sending waits, and the socket's queue holds at most one message", async (t) => {
    const size = 16 * 1024;
    const state = { sent: 0, maxQueued: 0, stopped: false, ok: true };
    const scopes: Scope[] = [];
    const { url } = await start(
      t,
      wsRoute(scopes, (socket, request) => {
        const { outgoing } = socketChannel<string, string>(request.scope, socket, {
          buffer: 4,
        });
        const payload = "x".repeat(size);
        request.scope.task(async ({ signal }) => {
          try {
            while (!signal.aborted && state.sent < 100_000) {
              if (!await outgoing.send(payload)) return;
              state.sent++;
              state.maxQueued = Math.max(state.maxQueued, socket.bufferedAmount);
            }
          } catch {
            // the scope aborted while send() waited
          } finally {
            state.stopped = true;
          }
        });
      }),
    );
    // A raw client: the handshake, then never a single read.
    const port = Number(new URL(url).port);
    const raw = net.connect(port, "127.0.0.1");
    raw.on("error", () => {});
    await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
    raw.pause();
    raw.write(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    // The kernel's buffers fill, then the writer waits and the producer blocks.
    let last = -1;
    await waitFor(
      () => {
        const stalled = state.sent > 0 && state.sent === last;
        last = state.sent;
        return stalled;
      },
      "the producer to stall",
      10_000,
    );
    await sleep(100);
    const stalledAt = state.sent;
    await sleep(100);
    assert.equal(state.sent, stalledAt, "the producer sends no more while nothing is read");
    assert.ok(state.sent < 100_000);
    assert.ok(
      state.maxQueued <= size + 16,
      `bufferedAmount peaked at ${state.maxQueued}`,
    );
    assert.equal(state.stopped, false);
    raw.destroy();
    await waitFor(() => state.stopped, "the producer to stop when the client leaves");
    assert.ok(scopes[0]!.abortReason instanceof ClientDisconnectedError);
  });

  it("rejects unknown and bad options", async (t) => {
    const errors: unknown[] = [];
    const { url } = await start(t, (app) => {
      app.get("/ws", { websocket: true }, (socket, request) => {
        for (const options of [{ buffer: -1 }, { backpressure: "later" }, { nope: 1 }]) {
          try {
            socketChannel(request.scope, socket, options as never);
          } catch (error) {
            errors.push(error);
          }
        }
        socket.close();
      });
    });
    await closed(await connect(url + "/ws"));
    assert.equal(errors.length, 3);
    assert.match((errors[0] as Error).message, /Cannot create socket channel: "buffer" must be/);
    assert.match((errors[1] as Error).message, /"backpressure" must be/);
    assert.ok(errors[2] instanceof TypeError);
  });
});

describe("websocket routes: many sockets", () => {
  it("200 sockets closing at once end 200 scopes with ClientDisconnectedError", async (t) => {
    const scopes: Scope[] = [];
    const { app, url } = await start(
      t,
      wsRoute(scopes, (socket, request) => void socketChannel(request.scope, socket)),
    );
    const clients = await inBatches(200, 50, () => connect(url + "/ws"));
    await waitFor(() => scopes.length === 200, "200 connections");
    assert.equal(app.scope.childCount, 200);
    const done = clients.map(closed);
    clients.forEach((client, i) => i % 2 ? client.close() : client.terminate());
    await Promise.all(done);
    await waitFor(() => app.scope.childCount === 0, "every scope disposed", 5_000);
    assert.ok(scopes.every((s) => s.abortReason instanceof ClientDisconnectedError));
  });

  it("app.close() with 50 sockets open: resolves, closes each with 1001, leaves no timer", async (t) => {
    const scopes: Scope[] = [];
    const { app, url } = await start(
      t,
      wsRoute(scopes, (socket, request) => void socketChannel(request.scope, socket)),
    );
    const timersBefore = activeTimers();
    const clients = await inBatches(50, 25, () => connect(url + "/ws"));
    await waitFor(() => scopes.length === 50, "50 connections");
    const done = Promise.all(clients.map(closed));
    await app.close();
    const codes = (await done).map((c) => c.code);
    assert.deepEqual(new Set(codes), new Set([1001]));
    assert.ok(scopes.every((s) => s.abortReason instanceof ServerClosingError && s.isDisposed));
    assert.equal(app.scope.childCount, 0);
    await sleep(20);
    assert.ok(activeTimers() <= timersBefore, "no timer left behind");
  });
});
