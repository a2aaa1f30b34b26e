// Every example of the documentation, as written in examples/server.ts, with
// exact status codes and bodies.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import Fastify from "fastify";
import { ClientDisconnectedError, fastifyGoGoScope, type Scope, scope } from "../../mod.ts";
import { buildApp } from "../../examples/server.ts";
import { createDataSources, type DataSources } from "../../examples/data_sources.ts";
import { listen, request, sleep, waitFor } from "./_helpers.ts";

async function seedApp(configure: (sources: DataSources) => void = () => {}) {
  const sources = createDataSources({ latency: 1, streamInterval: 1, metricsInterval: 5 });
  configure(sources);
  const app = await buildApp(sources);
  return { app, sources };
}

const EVENTS = Array.from({ length: 100 }, (_, i) => `data: {"event":"update","data":${i}}\n\n`)
  .join("");

describe("seed: quick start, user lookup with retry and timeout", () => {
  it("returns the user", async (t) => {
    const { app, sources } = await seedApp();
    t.after(() => app.close());
    const response = await app.inject("/users/1");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { id: "1", name: "Ada Lovelace" });
    assert.equal(sources.users.calls, 1);
  });

  it("retries a flaky store (exponential backoff) and still returns the user", async (t) => {
    const { app, sources } = await seedApp((s) => (s.users.failNext = 2));
    t.after(() => app.close());
    const response = await app.inject("/users/2");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { id: "2", name: "Grace Hopper" });
    assert.equal(sources.users.calls, 3);
  });

  it("answers 500 with the error once the retries are spent", async (t) => {
    const { app, sources } = await seedApp((s) => (s.users.down = true));
    t.after(() => app.close());
    const response = await app.inject("/users/1");
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: "user store is down" });
    assert.equal(sources.users.calls, 4, "one call and three retries");
  });

  it("the request scope is a child of the 'my-api' root", async (t) => {
    const { app } = await seedApp();
    t.after(() => app.close());
    await app.ready();
    const response = await app.inject("/metrics");
    assert.equal(response.json().scope, "my-api");
  });
});

describe("seed: dashboard with parallel({ concurrency: 3 })", () => {
  it("returns the three results by position", async (t) => {
    const { app } = await seedApp();
    t.after(() => app.close());
    const response = await app.inject("/dashboard");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      profile: { name: "Ada", plan: "pro" },
      orders: [{ id: 1, total: 42 }, { id: 2, total: 7 }],
      recommendations: ["scopes", "channels"],
    });
  });

  it("fails fast with the first error as a 500", async (t) => {
    const { app } = await seedApp((s) => (s.orders.failNext = 1));
    t.after(() => app.close());
    const response = await app.inject("/dashboard");
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: "order service failed" });
  });
});

describe("seed: external API behind the plugin's circuit breaker", () => {
  it("returns the data while the API is up", async (t) => {
    const { app } = await seedApp();
    t.after(() => app.close());
    const response = await app.inject("/external-api");
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { source: "external", value: 42 });
  });

  it("opens after 5 failing requests, then answers 503 without calling the API", async (t) => {
    const { app, sources } = await seedApp((s) => (s.external.down = true));
    t.after(() => app.close());
    for (let i = 0; i < 5; i++) {
      const response = await app.inject("/external-api");
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), { error: "Service unavailable" });
    }
    assert.equal(sources.external.calls, 5);
    assert.deepEqual((await app.inject("/external-api/breaker")).json(), { state: "open" });
    sources.external.down = false;
    for (let i = 0; i < 3; i++) {
      const response = await app.inject("/external-api");
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), { error: "Service unavailable" });
    }
    assert.equal(sources.external.calls, 5, "the open breaker did not call the API");
  });
});

describe("seed: streaming a channel with reply.raw.write", () => {
  it("streams the 100 events in order (inject)", async (t) => {
    const { app } = await seedApp();
    t.after(() => app.close());
    const response = await app.inject("/stream-events");
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, EVENTS);
  });

  it("streams the 100 events in order over a real socket, then releases the scope", async (t) => {
    const { app } = await seedApp();
    t.after(() => app.close());
    const port = await listen(app);
    const response = await request(port, "/stream-events");
    assert.equal(response.status, 200);
    assert.equal(response.body, EVENTS);
    assert.equal(response.headers["transfer-encoding"], "chunked");
    // As written, the example sets the header on Fastify's reply but writes to
    // reply.raw, which never sends Fastify's headers: no text/event-stream.
    assert.equal(response.headers["content-type"], undefined);
    let health = "";
    for (let i = 0; i < 50 && health !== '{"scope":"my-api","inFlight":0}'; i++) {
      health = (await request(port, "/health")).body;
    }
    assert.equal(health, '{"scope":"my-api","inFlight":0}', "the stream's scope was released");
  });

  it("a reader that leaves stops the producer", async (t) => {
    let iterations = 0;
    const { app } = await seedApp((s) => {
      // The producer reads the interval once per event: count its iterations.
      Object.defineProperty(s, "streamInterval", {
        get: () => {
          iterations++;
          return 3;
        },
      });
    });
    t.after(() => app.close());
    const port = await listen(app);
    await new Promise<void>((resolve) => {
      const req = http.get(
        { host: "127.0.0.1", port, path: "/stream-events", agent: false },
        (res) => {
          res.on("error", () => {});
          res.once("data", () => setTimeout(() => req.destroy(), 10));
        },
      );
      req.on("error", () => {});
      req.on("close", () => resolve());
    });
    await sleep(20);
    const stoppedAt = iterations;
    await sleep(30);
    assert.equal(iterations, stoppedAt, "no more events produced");
    assert.ok(iterations < 100, `produced ${iterations} events`);
  });
});

describe("seed: a background job on the root scope", () => {
  it("starts in app.ready() and runs until app.close()", async () => {
    const { app, sources } = await seedApp();
    await app.ready();
    await waitFor(() => sources.metricsSamples >= 2, "the collector sampled twice");
    const response = await app.inject("/metrics");
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().scope, "my-api");
    assert.ok(response.json().samples >= 2);
    await app.close();
    const stoppedAt = sources.metricsSamples;
    await sleep(20);
    assert.equal(sources.metricsSamples, stoppedAt, "the collector stopped with the app");
  });
});

describe("seed: the lifecycle-hooks snippet (a hook that sets request.scope itself)", () => {
  // The seed shows how the plugin integrates with an onRequest hook that
  // assigns `request.scope = scope({ parent: rootScope, name })`. A user who
  // copies it replaces the plugin's request scope: both must still end with
  // the response, or each request would leave a child on the root.
  async function appWithUserHook() {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { name: "my-api" });
    const rootScope = app.scope;
    app.addHook("onRequest", async (request) => {
      request.scope = scope({ parent: rootScope, name: `request-${request.id}` });
    });
    let seen: Scope | undefined;
    app.get("/work", async (request) => {
      seen = request.scope;
      const [err, value] = await request.scope.task(() => "done");
      if (err) throw err;
      return { value, name: request.scope.name };
    });
    app.get("/hang", async (request) => {
      seen = request.scope;
      const [err] = await request.scope.task(({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
      );
      return { aborted: err?.name };
    });
    return { app, seen: () => seen };
  }

  it("serves the request through the hook's scope and disposes both scopes after it", async (t) => {
    const { app, seen } = await appWithUserHook();
    t.after(() => app.close());
    const port = await listen(app);
    for (let i = 0; i < 20; i++) {
      const response = await request(port, "/work");
      assert.equal(response.status, 200);
      assert.equal(JSON.parse(response.body).value, "done");
    }
    await waitFor(() => app.scope.childCount === 0, "every request scope to be released");
    assert.equal(seen()?.isDisposed, true);
  });

  it("a client that leaves cancels the hook's scope too", async (t) => {
    const { app, seen } = await appWithUserHook();
    t.after(() => app.close());
    const port = await listen(app);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => seen() !== undefined, "the handler to start");
    socket.destroy();
    await waitFor(() => seen()!.isDisposed, "the hook's scope to be disposed");
    assert.ok(seen()!.abortReason instanceof ClientDisconnectedError);
    assert.equal(app.scope.childCount, 0);
  });
});
