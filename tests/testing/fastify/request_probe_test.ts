// probeRequests: what the probe records for each request (scope, phases,
// tasks and how they ended), and that its hooks change nothing about the
// responses.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../../src/fastify/mod.ts";
import { probeRequests } from "../../../src/testing/mod.ts";

describe("probeRequests", () => {
  it("records each request's scope, phases and tasks with how they ended", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    const probe = probeRequests(app);
    app.addHook("preHandler", async (request) => {
      await request.scope.task(() => "from a hook", { name: "hook-task" });
    });
    app.get("/", async (request) => {
      const [, a] = await request.scope.task(() => 1);
      const [err] = await request.scope.task(() => Promise.reject(new Error("down")), {
        name: "failing",
        retry: { max: 1, delay: 1 },
      });
      return { a, err: err?.message };
    });
    try {
      const response = await app.inject("/?x=1");
      assert.deepEqual(response.json(), { a: 1, err: "down" });
      assert.equal(probe.requests.length, 1);
      const seen = probe.requests[0]!;
      assert.equal(seen.method, "GET");
      assert.equal(seen.url, "/?x=1");
      assert.match(seen.id, /^req-/);
      assert.deepEqual(seen.phases, [
        "onRequest",
        "preParsing",
        "preValidation",
        "preHandler",
        "handler",
        "preSerialization",
        "onSend",
        "onResponse",
      ]);
      assert.equal(seen.phase, "onResponse");
      assert.ok(seen.scope?.isDisposed);
      assert.match(seen.scope!.name, /^request-/);
      const [hook, first, failing] = seen.tasks;
      assert.deepEqual([hook?.name, hook?.outcome, hook?.value, hook?.phase], [
        "hook-task",
        "fulfilled",
        "from a hook",
        "preHandler",
      ]);
      assert.match(first!.name, /^task-\d+$/, "a task without a name is task-<id>");
      assert.equal(first?.phase, "handler");
      assert.equal(failing?.outcome, "rejected");
      assert.equal(failing?.error?.message, "down");
      assert.deepEqual(failing?.options, { name: "failing", retry: { max: 1, delay: 1 } });
      assert.deepEqual(await failing!.task, [failing!.error, undefined]);
    } finally {
      await app.close();
    }
  });

  it("a route registered before the probe: `handler` starts after the probe's preHandler hook", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    app.get("/", async (request) => (await request.scope.task(() => "early", { name: "t" }))[1]);
    const probe = probeRequests(app);
    try {
      assert.equal((await app.inject("/")).body, "early");
      const seen = probe.requests[0]!;
      assert.equal(seen.phases.filter((p) => p === "handler").length, 1);
      assert.equal(seen.tasks[0]?.phase, "handler");
    } finally {
      await app.close();
    }
  });

  it("a task that ends because its request scope was cancelled is `cancelled`", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    const probe = probeRequests(app);
    const reason = new Error("request over");
    app.get("/", async (request) => {
      const pending = request.scope.task(({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
      );
      request.scope.cancel(reason);
      await pending;
      await request.scope.task(() => "too late");
      return "ok";
    });
    try {
      await app.inject("/");
      const outcomes = probe.requests[0]!.tasks.map((t) => [t.outcome, t.error]);
      assert.deepEqual(outcomes, [["cancelled", reason], ["cancelled", reason]]);
    } finally {
      await app.close();
    }
  });

  it("records requests of an app without the plugin (no scope)", async () => {
    const app = Fastify();
    const probe = probeRequests(app);
    app.get("/", async () => "plain");
    try {
      assert.equal((await app.inject("/")).body, "plain");
      assert.equal(probe.requests[0]?.scope, undefined);
      assert.deepEqual(probe.requests[0]?.tasks, []);
      assert.equal(probe.requests[0]?.phases.at(-1), "onResponse");
    } finally {
      await app.close();
    }
  });

  it("its hooks leave payloads alone: JSON bodies, objects, strings, buffers, 404s", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    probeRequests(app);
    app.post("/echo", async (request) => request.body);
    app.get("/text", async () => "text");
    app.get(
      "/bytes",
      async (_request, reply) =>
        reply.type("application/octet-stream").send(new Uint8Array([1, 2])),
    );
    try {
      const echo = await app.inject({ method: "POST", url: "/echo", payload: { n: [1, 2] } });
      assert.deepEqual(echo.json(), { n: [1, 2] });
      assert.equal((await app.inject("/text")).body, "text");
      assert.deepEqual([...(await app.inject("/bytes")).rawPayload], [1, 2]);
      assert.equal((await app.inject("/missing")).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  it("is added once per app; clear() forgets; too late once the app is ready", async () => {
    const app = Fastify({ http2: true });
    const probe = probeRequests(app);
    assert.equal(probeRequests(app), probe);
    app.get("/", async () => "ok");
    try {
      await app.inject("/");
      assert.equal(probe.requests.length, 1);
      probe.clear();
      assert.equal(probe.requests.length, 0);
      const other = Fastify();
      await other.ready();
      assert.throws(
        () => probeRequests(other),
        /before app\.ready\(\), app\.listen\(\) or app\.inject\(\)/,
      );
      await other.close();
    } finally {
      await app.close();
    }
  });
});
