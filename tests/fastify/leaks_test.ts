// Leaks a hostile or unlucky client could open, over real sockets on
// 127.0.0.1:0: pipelined requests on a dropped connection, an HTTP/2 stream
// reset while an earlier hook runs, a client that leaves during the body
// upload, a response stream that fails while the client stays, and hooks that
// run when the plugin's onRequest never did.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import {
  AbortError,
  CircuitBreaker,
  ClientDisconnectedError,
  ResponseStreamError,
  type Scope,
} from "../../src/core/mod.ts";
import { deferred, listen, logCollector, request, sleep, waitFor } from "./_helpers.ts";

/** Resolves with the socket once connected to 127.0.0.1:`port`. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** A task that ends only when its signal aborts (or after 2 s). */
function untilAborted(s: Scope): PromiseLike<unknown> {
  return s.task(({ signal }) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 2000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    })
  );
}

/** An app that records every request scope (from a hook registered after the plugin). */
async function recordingApp(server: FastifyServerOptions = {}) {
  const app = Fastify(server) as unknown as FastifyInstance;
  await app.register(fastifyGoGoScope);
  const scopes: Scope[] = [];
  let cleanups = 0;
  app.addHook("onRequest", async (request) => {
    scopes.push(request.scope);
    request.scope.onDispose(() => void cleanups++);
  });
  return { app, scopes, cleanups: () => cleanups };
}

describe("leaks: pipelined requests on a keep-alive connection", () => {
  it("a dropped connection cancels and disposes every queued request's scope", async (t) => {
    const { app, scopes, cleanups } = await recordingApp();
    t.after(() => app.close());
    const results: unknown[] = [];
    app.get("/slow", async (request) => {
      const [err] = await untilAborted(request.scope) as [unknown];
      results.push(err);
      return "late";
    });
    const port = await listen(app);
    const sockets = 20;
    const perSocket = 10;
    for (let i = 0; i < sockets; i++) {
      const socket = await connect(port);
      socket.on("error", () => {});
      socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".repeat(perSocket));
      await waitFor(() => scopes.length === (i + 1) * perSocket, "every request started");
      socket.destroy();
    }
    const total = sockets * perSocket;
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    assert.equal(scopes.length, total);
    assert.ok(scopes.every((s) => s.isDisposed));
    assert.ok(
      scopes.every((s) => s.abortReason instanceof ClientDisconnectedError),
      "every scope was cancelled as a client that left",
    );
    assert.equal(cleanups(), total, "every cleanup ran");
    await waitFor(() => results.length === total, "every handler's task ended");
    assert.ok(results.every((e) => e instanceof ClientDisconnectedError));
  });

  it("pipelined requests that complete end normally, in order", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    app.get("/n/:n", async (request) => {
      await sleep(5);
      return (request.params as { n: string }).n;
    });
    const port = await listen(app);
    const socket = await connect(port);
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.write(
      [1, 2, 3, 4].map((n) => `GET /n/${n} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""),
    );
    await waitFor(() => (received.match(/HTTP\/1\.1 200/g) ?? []).length === 4, "4 responses");
    socket.destroy();
    await waitFor(() => app.scope.childCount === 0, "disposed");
    assert.equal(scopes.length, 4);
    for (const s of scopes) {
      assert.ok(s.abortReason instanceof AbortError);
      assert.ok(!(s.abortReason instanceof ClientDisconnectedError), String(s.abortReason));
    }
  });
});

describe("leaks: HTTP/2", () => {
  it("a stream reset while an earlier async onRequest hook runs ends the scope", async (t) => {
    const app = Fastify({ http2: true }) as unknown as FastifyInstance;
    const hookEntered = deferred();
    const gate = deferred();
    // Registered before the plugin: runs before the plugin's onRequest.
    app.addHook("onRequest", async () => {
      hookEntered.resolve();
      await gate.promise;
    });
    await app.register(fastifyGoGoScope);
    const seen = deferred<Scope>();
    const outcome = deferred<unknown>();
    app.get("/slow", async (request) => {
      seen.resolve(request.scope);
      const [err] = await untilAborted(request.scope) as [unknown];
      outcome.resolve(err);
      return "late";
    });
    app.addHook("onRequest", async (request) => void seen.resolve(request.scope));
    const port = await listen(app);
    const client = http2.connect(`http://127.0.0.1:${port}`);
    t.after(async () => {
      client.close();
      await app.close();
    });
    client.on("error", () => {});
    const stream = client.request({ ":path": "/slow" });
    stream.on("error", () => {});
    stream.resume();
    await hookEntered.promise;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await sleep(30);
    gate.resolve();
    const requestScope = await seen.promise;
    await waitFor(() => requestScope.isDisposed, "reset stream's scope disposed");
    assert.ok(requestScope.abortReason instanceof ClientDisconnectedError);
    assert.equal(app.scope.childCount, 0);
    const err = await Promise.race([outcome.promise, sleep(50).then(() => "no handler")]);
    if (err !== "no handler") assert.ok(err instanceof ClientDisconnectedError, String(err));
  });
});

describe("leaks: a client that leaves during the body upload", () => {
  it("the scope ends with ClientDisconnectedError, not a normal end", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    app.post("/upload", async () => "never");
    const port = await listen(app);
    const socket = await connect(port);
    socket.on("error", () => {});
    socket.write(
      "POST /upload HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
        'content-length: 1000\r\n\r\n{"a":',
    );
    await waitFor(() => scopes.length === 1, "request started");
    await sleep(10);
    socket.destroy();
    await waitFor(() => scopes[0]!.isDisposed, "disposed");
    assert.ok(
      scopes[0]!.abortReason instanceof ClientDisconnectedError,
      `got ${String(scopes[0]!.abortReason)}`,
    );
    assert.equal(app.scope.childCount, 0);
  });
});

describe("leaks: a response stream that fails", () => {
  it("after the headers: the scope ends with ResponseStreamError, the stream's error as cause", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    const taskOutcome = deferred<unknown>();
    app.get("/stream", async (request, reply) => {
      untilAborted(request.scope).then((r) => taskOutcome.resolve((r as [unknown])[0]));
      const body = new Readable({ read() {} });
      body.push("first chunk\n");
      setTimeout(() => body.destroy(new Error("disk read failed")), 20);
      return reply.send(body);
    });
    const port = await listen(app);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/stream", agent: false }, (res) => {
        res.on("data", () => {});
        res.on("error", () => {});
        res.on("close", () => resolve());
      });
      req.on("error", () => resolve());
    });
    await waitFor(() => scopes[0]?.isDisposed === true, "disposed");
    const reason = scopes[0]!.abortReason;
    assert.ok(reason instanceof ResponseStreamError, `got ${String(reason)}`);
    assert.equal(reason.code, "GGS_ERR_RESPONSE_FAILED");
    assert.equal((reason.cause as Error).message, "disk read failed");
    assert.equal(await taskOutcome.promise, reason, "the handler's task saw the same reason");
  });

  it("a web ReadableStream that fails after the headers: ResponseStreamError too", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    app.get("/web", async (_request, reply) => {
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (!sent) {
            sent = true;
            controller.enqueue(new TextEncoder().encode("first chunk\n"));
            return;
          }
          await sleep(20);
          controller.error(new Error("upstream fetch failed"));
        },
      });
      return reply.send(body);
    });
    const port = await listen(app);
    const firstChunk = deferred();
    await new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/web", agent: false }, (res) => {
        res.on("data", () => firstChunk.resolve());
        res.on("error", () => {});
        res.on("close", () => resolve());
      });
      req.on("error", () => resolve());
    });
    await firstChunk.promise;
    await waitFor(() => scopes[0]?.isDisposed === true, "disposed");
    const reason = scopes[0]!.abortReason;
    assert.ok(reason instanceof ResponseStreamError, `got ${String(reason)}`);
    assert.equal((reason.cause as Error).message, "upstream fetch failed");
  });

  it("a web ReadableStream that completes is sent whole", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    app.get("/web", async (_request, reply) => {
      const parts = ["a", "b", "c"];
      return reply.send(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            const next = parts.shift();
            if (next === undefined) controller.close();
            else controller.enqueue(new TextEncoder().encode(next));
          },
        }),
      );
    });
    const response = await app.inject("/web");
    assert.equal(response.body, "abc");
    await waitFor(() => scopes[0]?.isDisposed === true, "disposed");
    assert.ok(!(scopes[0]!.abortReason instanceof ResponseStreamError));
  });

  it("before the headers: the error handler answers and the scope ends normally", async (t) => {
    const { app, scopes } = await recordingApp();
    t.after(() => app.close());
    app.get("/stream", async (_request, reply) => {
      const body = new Readable({ read() {} });
      setTimeout(() => body.destroy(new Error("missing file")), 5);
      return reply.send(body);
    });
    const port = await listen(app);
    const response = await request(port, "/stream");
    assert.equal(response.status, 500);
    await waitFor(() => scopes[0]?.isDisposed === true, "disposed");
    assert.ok(!(scopes[0]!.abortReason instanceof ResponseStreamError));
    assert.ok(!(scopes[0]!.abortReason instanceof ClientDisconnectedError));
  });
});

describe("leaks: hooks that run although the plugin's onRequest did not", () => {
  it("an earlier onRequest hook throws: the error handler can use request.scope", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    app.addHook("onRequest", async () => {
      throw Object.assign(new Error("no token"), { statusCode: 401 });
    });
    await app.register(fastifyGoGoScope);
    let errorScope: Scope | undefined;
    app.setErrorHandler(async (error, request, reply) => {
      errorScope = request.scope;
      const [err, audit] = await request.scope.task(() => `audited: ${(error as Error).message}`);
      if (err) throw err;
      return reply.code(401).send({ audit });
    });
    app.get("/", async () => "never");
    const response = await app.inject("/");
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { audit: "audited: no token" });
    await waitFor(() => errorScope?.isDisposed === true, "the late scope disposed");
    assert.equal(app.scope.childCount, 0);
    const port = await listen(app);
    const real = await request(port, "/");
    assert.equal(real.status, 401);
    await waitFor(() => app.scope.childCount === 0, "disposed over a socket too");
  });

  it("an earlier onRequest hook replies: onSend and onResponse hooks can use request.scope", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    app.addHook("onRequest", async (_request, reply) => {
      await reply.code(403).send("forbidden");
    });
    await app.register(fastifyGoGoScope);
    const seen: string[] = [];
    app.addHook("onSend", async (request) => {
      const [, v] = await request.scope.task(() => "onSend");
      seen.push(v!);
    });
    app.addHook("onResponse", async (request) => {
      const [, v] = await request.scope.task(() => "onResponse");
      seen.push(v!);
    });
    app.get("/", async () => "never");
    const port = await listen(app);
    const response = await request(port, "/");
    assert.equal(response.status, 403);
    await waitFor(() => seen.length === 2, "both hooks ran");
    assert.deepEqual(seen, ["onSend", "onResponse"]);
    await waitFor(() => app.scope.childCount === 0, "the late scope disposed");
  });
});

describe("leaks: the circuit breaker's own errors", () => {
  it("are logged through the request's logger with its id, never console.error", async (t) => {
    const logs = logCollector();
    const app = Fastify({ logger: { level: "info", stream: logs.stream } });
    t.after(() => app.close());
    const breaker = new CircuitBreaker({
      failureThreshold: 100,
      isFailure: () => {
        throw new Error("isFailure is broken");
      },
    });
    breaker.on("failure", () => {
      throw new Error("handler is broken");
    });
    await app.register(fastifyGoGoScope, { circuitBreaker: breaker });
    app.get("/", async (request) => {
      const [err] = await request.scope.task(() => {
        throw new Error("dependency down");
      });
      return { failed: err?.message };
    });
    const original = console.error;
    const consoleLines: unknown[] = [];
    console.error = (...args: unknown[]) => void consoleLines.push(args);
    let response;
    try {
      response = await app.inject("/");
    } finally {
      console.error = original;
    }
    assert.deepEqual(response.json(), { failed: "dependency down" });
    assert.deepEqual(consoleLines, []);
    const handler = logs.records.find((r) =>
      r.msg === "circuit breaker: a 'failure' handler threw"
    );
    const isFailure = logs.records.find((r) =>
      r.msg === "circuit breaker: isFailure threw; counting the error as a failure"
    );
    assert.ok(handler && isFailure, JSON.stringify(logs.records.map((r) => r.msg)));
    assert.equal(handler.level, 50);
    assert.equal(handler.err?.message, "handler is broken");
    assert.equal(isFailure.err?.message, "isFailure is broken");
    const requestId = logs.records.find((r) => r.msg === "incoming request")?.reqId;
    assert.ok(requestId !== undefined);
    assert.equal(handler.reqId, requestId);
    assert.equal(isFailure.reqId, requestId);
  });
});

describe("leaks: keep-alive clients during app.close()", () => {
  it("recommended settings: idle sockets close at once, in-flight requests finish, close() does not wait for keep-alive clients", async () => {
    const app = Fastify({ forceCloseConnections: "idle", return503OnClosing: true });
    await app.register(fastifyGoGoScope);
    const scopes: Scope[] = [];
    app.get("/slow", async (request) => {
      scopes.push(request.scope);
      const [err] = await request.scope.task(() => sleep(120));
      if (err) throw err;
      return "slow";
    });
    app.get("/fast", async () => "fast");
    const port = await listen(app);
    const events: string[] = [];
    const open = async (name: string) => {
      const socket = await connect(port);
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        for (const line of d.split("\r\n")) {
          if (line.startsWith("HTTP/1.1")) events.push(`${name} ${line}`);
        }
      });
      socket.on("close", () => events.push(`${name} closed`));
      socket.on("error", () => {});
      return socket;
    };
    const idle = await open("idle");
    idle.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(
      () => events.includes("idle HTTP/1.1 200 OK"),
      "the idle socket's first response",
    );
    const busy = await open("busy");
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => scopes.length === 1, "the slow request started");
    const closed = app.close().then(() => events.push("app closed"));
    await waitFor(() => events.includes("idle closed"), "the idle keep-alive socket closed");
    // close() resolves without the client closing its keep-alive socket: the in-flight
    // response says `Connection: close`, so the server ends that socket after it.
    await closed;
    await waitFor(
      () => events.includes("busy closed"),
      "the busy socket closed after its response",
    );
    busy.destroy();
    idle.destroy();
    assert.equal(app.scope.isDisposed, true);
    assert.equal(app.scope.childCount, 0);
    assert.ok(scopes[0]!.isDisposed);
    if (!("Deno" in globalThis)) {
      // Node: the in-flight request completed, its scope ended normally, and the idle socket
      // was closed before that response.
      assert.ok(events.includes("busy HTTP/1.1 200 OK"), events.join());
      assert.ok(
        events.indexOf("idle closed") < events.indexOf("busy HTTP/1.1 200 OK"),
        events.join(),
      );
      assert.ok(!(scopes[0]!.abortReason instanceof ClientDisconnectedError));
    }
  });
});
