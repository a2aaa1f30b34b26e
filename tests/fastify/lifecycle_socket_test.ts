// The request scope's end over real sockets on 127.0.0.1:0: clients that leave
// (GET, POST with a body, HTTP/2 stream reset, a stream reader), app.close()
// with requests in flight, and no scope left behind after thousands of
// keep-alive requests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import {
  AbortError,
  ClientDisconnectedError,
  type Scope,
  ServerClosingError,
} from "../../src/core/mod.ts";
import { deferred, listen, request, requestAndLeave, sleep, waitFor } from "./_helpers.ts";

/** What the slow handler saw. */
interface Outcome {
  error: Error | undefined;
  laterWork: boolean;
}

/**
 * An app whose `/slow` route (GET and POST) waits on a task that only ends
 * when its signal aborts (or after 2 s), then does "later work" unless the
 * task failed.
 */
async function slowApp(server: FastifyServerOptions = {}) {
  const app = Fastify(server) as unknown as FastifyInstance;
  await app.register(fastifyGoGoScope);
  const entered = deferred<Scope>();
  const outcome = deferred<Outcome>();
  const state = { laterWork: false, body: undefined as unknown };
  const handler = async (request: { scope: Scope; body?: unknown }) => {
    state.body = request.body;
    entered.resolve(request.scope);
    const [error] = await request.scope.task(({ signal }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve("finished"), 2000);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      })
    );
    if (error) {
      outcome.resolve({ error, laterWork: false });
      throw error;
    }
    state.laterWork = true;
    outcome.resolve({ error: undefined, laterWork: true });
    return "done";
  };
  app.get("/slow", handler);
  app.post("/slow", handler);
  return { app, entered: entered.promise, outcome: outcome.promise, state };
}

describe("lifecycle: a client that leaves mid-request", () => {
  it("GET: the task's signal aborts with ClientDisconnectedError, the scope is disposed", async (t) => {
    const { app, entered, outcome } = await slowApp();
    t.after(() => app.close());
    const port = await listen(app);
    await requestAndLeave(port, "/slow", entered);
    const requestScope = await entered;
    const { error, laterWork } = await outcome;
    assert.ok(error instanceof ClientDisconnectedError, `got ${String(error)}`);
    assert.equal(error.code, "GGS_ERR_CLIENT_DISCONNECTED");
    assert.equal(error.statusCode, 499);
    assert.equal(laterWork, false, "the handler's later work is skipped");
    assert.ok(requestScope.abortReason instanceof ClientDisconnectedError);
    await waitFor(() => requestScope.isDisposed, "request scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("POST with a body: the task aborts after the body was read and the client left", async (t) => {
    const { app, entered, outcome, state } = await slowApp();
    t.after(() => app.close());
    const port = await listen(app);
    await requestAndLeave(port, "/slow", entered, {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
    });
    const requestScope = await entered;
    const { error, laterWork } = await outcome;
    assert.deepEqual(state.body, { n: 1 });
    assert.ok(error instanceof ClientDisconnectedError, `got ${String(error)}`);
    assert.equal(laterWork, false);
    await waitFor(() => requestScope.isDisposed, "request scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("a client that left while an earlier async hook ran gets a cancelled, disposed scope", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    const gate = deferred();
    const hookEntered = deferred();
    // Registered before the plugin, so it runs before the plugin's onRequest.
    app.addHook("onRequest", async () => {
      hookEntered.resolve();
      await gate.promise;
    });
    await app.register(fastifyGoGoScope);
    const outcome = deferred<{ error: Error | undefined; scope: Scope }>();
    app.get("/", async (request) => {
      const [error] = await request.scope.task(() => "work");
      outcome.resolve({ error, scope: request.scope });
      return "late";
    });
    const port = await listen(app);
    await requestAndLeave(port, "/", hookEntered.promise);
    await sleep(20);
    gate.resolve();
    const { error, scope: requestScope } = await outcome.promise;
    assert.ok(error instanceof ClientDisconnectedError, `got ${String(error)}`);
    await waitFor(() => requestScope.isDisposed, "request scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("a request that completes is disposed without a ClientDisconnectedError", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    let requestScope: Scope | undefined;
    app.post("/echo", async (request) => {
      requestScope = request.scope;
      return request.body;
    });
    const port = await listen(app);
    const response = await request(port, "/echo", { method: "POST", body: '{"a":1}' });
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"a":1}');
    await waitFor(() => requestScope?.isDisposed === true, "disposed");
    assert.ok(requestScope?.abortReason instanceof AbortError);
    assert.ok(!(requestScope?.abortReason instanceof ClientDisconnectedError));
  });

  it("HTTP/2: a reset stream aborts the task; a completed stream does not", async (t) => {
    const app = Fastify({ http2: true }) as unknown as FastifyInstance;
    await app.register(fastifyGoGoScope);
    const entered = deferred<Scope>();
    const outcome = deferred<Error | undefined>();
    let completedScope: Scope | undefined;
    app.get("/slow", async (request) => {
      entered.resolve(request.scope);
      const [error] = await request.scope.task(({ signal }) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 2000);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        })
      );
      outcome.resolve(error);
      return "done";
    });
    app.get("/fast", async (request) => {
      completedScope = request.scope;
      return "fast";
    });
    const port = await listen(app);
    const client = http2.connect(`http://127.0.0.1:${port}`);
    // The client's session first: an HTTP/2 server's close() waits for open sessions (Node).
    t.after(async () => {
      client.close();
      await app.close();
    });
    client.on("error", () => {});

    const fast = client.request({ ":path": "/fast" });
    fast.setEncoding("utf8");
    let body = "";
    fast.on("data", (chunk: string) => (body += chunk));
    await new Promise((resolve) => fast.on("end", resolve));
    assert.equal(body, "fast");
    await waitFor(() => completedScope?.isDisposed === true, "completed stream's scope disposed");
    assert.ok(!(completedScope?.abortReason instanceof ClientDisconnectedError));

    const slow = client.request({ ":path": "/slow" });
    slow.on("error", () => {});
    slow.resume();
    const requestScope = await entered.promise;
    slow.close(http2.constants.NGHTTP2_CANCEL);
    const error = await outcome.promise;
    assert.ok(error instanceof ClientDisconnectedError, `got ${String(error)}`);
    await waitFor(() => requestScope.isDisposed, "reset stream's scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("a streaming response whose reader leaves stops its producer", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    let produced = 0;
    let streamScope: Scope | undefined;
    app.get("/stream", { config: { scope: { timeout: false } } }, async (request, reply) => {
      streamScope = request.scope;
      const channel = request.scope.channel<number>({ buffer: 10 });
      request.scope.task(async ({ signal }) => {
        for (let i = 0; i < 1000 && !signal.aborted; i++) {
          produced++;
          await channel.send(i);
          await sleep(2);
        }
        channel.close();
      });
      reply.raw.writeHead(200, { "content-type": "text/event-stream" });
      for await (const n of channel) reply.raw.write(`data: ${n}\n\n`);
      reply.raw.end();
    });
    const port = await listen(app);
    const firstChunk = deferred();
    await new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/stream", agent: false }, (res) => {
        res.once("data", () => firstChunk.resolve());
        res.on("error", () => {});
      });
      req.on("error", () => {});
      req.on("close", () => resolve());
      firstChunk.promise.then(() => req.destroy());
    });
    await waitFor(() => streamScope?.isDisposed === true, "stream scope disposed");
    assert.ok(streamScope?.abortReason instanceof ClientDisconnectedError);
    const stoppedAt = produced;
    await sleep(20);
    assert.equal(produced, stoppedAt, "the producer stopped");
    assert.ok(produced < 1000);
    assert.equal(app.scope.childCount, 0);
  });
});

describe("lifecycle: app.close() with requests in flight", () => {
  it("default: the in-flight request completes, then the root is disposed", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    const entered = deferred<Scope>();
    let taskError: Error | undefined;
    app.get("/work", async (request) => {
      entered.resolve(request.scope);
      const [error, value] = await request.scope.task(() => sleep(30).then(() => "completed"));
      taskError = error;
      return value;
    });
    const port = await listen(app);
    const pending = request(port, "/work", { agent: false });
    await entered.promise;
    const closed = app.close();
    const response = await pending;
    await closed;
    assert.equal(taskError, undefined);
    assert.equal(response.status, 200);
    assert.equal(response.body, "completed");
    assert.equal(app.scope.isDisposed, true);
  });

  it("forceCloseConnections: true: the in-flight request's task is aborted", async () => {
    const { app, entered, outcome } = await slowApp({ forceCloseConnections: true });
    const port = await listen(app);
    const clientClosed = new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/slow", agent: false });
      req.on("error", () => {});
      req.on("close", () => resolve());
    });
    const requestScope = await entered;
    await app.close();
    const { error, laterWork } = await outcome;
    assert.ok(error instanceof ServerClosingError, `got ${String(error)}`);
    assert.equal(laterWork, false);
    await clientClosed;
    await waitFor(() => requestScope.isDisposed, "request scope disposed");
    assert.equal(app.scope.isDisposed, true);
  });

  it("inject: the in-flight request's task is cancelled with ServerClosingError when the app closes", async () => {
    const { app, entered, outcome } = await slowApp();
    const pending = app.inject("/slow");
    const requestScope = await entered;
    await app.close();
    const { error } = await outcome;
    assert.ok(error instanceof ServerClosingError, `got ${String(error)}`);
    assert.equal(requestScope.isDisposed, true);
    assert.equal((await pending).statusCode, 503);
  });
});

describe("lifecycle: no leaks", () => {
  it("thousands of keep-alive requests, some leaving early, leave the root without children", async (t) => {
    const app = Fastify({ keepAliveTimeout: 1000 });
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    let started = 0;
    app.get("/quick", async (request) => {
      started++;
      const [, value] = await request.scope.task(() => 1);
      return { value };
    });
    app.get("/slow", async (request) => {
      started++;
      await request.scope.task(({ signal }) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        })
      );
      return "slow";
    });
    const port = await listen(app);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    t.after(() => agent.destroy());
    const total = 2000;
    let ok = 0;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        if (i % 20 === 0) {
          await requestAndLeave(port, "/slow", sleep(2), { agent: false });
        } else {
          const response = await request(port, "/quick", { agent });
          if (response.status === 200 && response.body === '{"value":1}') ok++;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(ok, total - total / 20);
    await waitFor(() => app.scope.childCount === 0, "every request scope released", 5000);
    assert.ok(started >= total - total / 20);
  });
});
