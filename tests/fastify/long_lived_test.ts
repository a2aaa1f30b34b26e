// SSE routes as long-lived routes, over real sockets: no deadline from the
// plugin's timeout, connectionTimeout, the producer's error as the scope's
// reason, app.close() with streams open; and what request.scope is in the
// hooks of plugins registered before and after the plugin.
import assert from "node:assert/strict";
import http from "node:http";
import { describe, it, type TestContext } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { fastifySSE } from "@fastify/sse";
import { Scope, ServerClosingError, TimeoutError } from "../../src/core/mod.ts";
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../../src/fastify/mod.ts";
import { streamEvents } from "../../src/fastify/sse.ts";
import { listen, logCollector, request, sleep, waitFor } from "./_helpers.ts";

async function start(
  t: TestContext,
  routes: (app: FastifyInstance) => void,
  options: FastifyGoGoScopeOptions = {},
): Promise<{ app: FastifyInstance; port: number }> {
  const { stream } = logCollector();
  const app = Fastify({ logger: { level: "fatal", stream } });
  await app.register(fastifyGoGoScope, options);
  await app.register(fastifySSE, { heartbeatInterval: 0 });
  routes(app);
  const port = await listen(app);
  t.after(() => app.close());
  return { app, port };
}

/** GETs an event stream and resolves with its text once it ends. */
function stream(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, headers: { accept: "text/event-stream" }, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(body));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
  });
}

/** A route at /events that sends `count` ticks `interval` ms apart; its scopes go on `scopes`. */
function ticks(scopes: Scope[], count: number, interval: number, config?: Record<string, unknown>) {
  return (app: FastifyInstance) => {
    app.get("/events", { sse: true, ...(config ? { config } : {}) }, async (req, reply) => {
      scopes.push(req.scope);
      await streamEvents(reply, async (events, { signal }) => {
        for (let n = 0; n < count && !signal.aborted; n++) {
          if (!await events.send({ data: n })) return;
          await sleep(interval);
        }
      });
    });
  };
}

describe("SSE routes are long-lived routes", () => {
  it("get no deadline from the plugin's timeout", async (t) => {
    const scopes: Scope[] = [];
    const { port } = await start(t, ticks(scopes, 8, 10), { timeout: 20 });
    const text = await stream(port, "/events");
    assert.equal(text.match(/^data: /gm)?.length, 8);
    assert.equal((scopes[0]!.abortReason as Error).message, "Scope disposed");
  });

  it("config.scope.timeout and connectionTimeout give them a deadline", async (t) => {
    const own: Scope[] = [];
    const shared: Scope[] = [];
    const { port } = await start(t, (app) => {
      app.register(async (child) => ticks(own, 1000, 5, { scope: { timeout: 30 } })(child));
      app.register(async (child) => ticks(shared, 1000, 5)(child), { prefix: "/shared" });
    }, { connectionTimeout: 40 });
    await stream(port, "/events");
    await stream(port, "/shared/events");
    assert.equal((own[0]!.abortReason as TimeoutError).timeout, 30);
    assert.ok(shared[0]!.abortReason instanceof TimeoutError);
    assert.equal((shared[0]!.abortReason as TimeoutError).timeout, 40);
  });

  it("a failing producer ends the scope with its error", async (t) => {
    const scopes: Scope[] = [];
    const boom = new Error("producer failed");
    const { port } = await start(t, (app) => {
      app.get("/events", { sse: true }, async (req, reply) => {
        scopes.push(req.scope);
        await streamEvents(reply, async (events) => {
          await events.send({ data: "first" });
          throw boom;
        });
      });
    });
    const text = await stream(port, "/events");
    assert.match(text, /data: "first"/);
    await waitFor(() => scopes[0]?.isDisposed === true, "disposal");
    assert.equal(scopes[0]!.abortReason, boom);
  });

  it("app.close() with 20 streams open resolves and ends them with ServerClosingError", async (t) => {
    const scopes: Scope[] = [];
    const { app, port } = await start(t, ticks(scopes, 1_000_000, 10));
    const streams = Array.from({ length: 20 }, () => stream(port, "/events").catch(() => ""));
    await waitFor(() => scopes.length === 20, "20 streams");
    await app.close();
    await Promise.all(streams);
    assert.ok(scopes.every((s) => s.abortReason instanceof ServerClosingError && s.isDisposed));
  });
});

describe("registration order: request.scope in other plugins' hooks", () => {
  it("is the request's one scope in every hook, of plugins registered before and after", async (t) => {
    const seen: Record<string, string> = {};
    let first: Scope | undefined;
    let same = false;
    const kind = (value: unknown) => value instanceof Scope ? "Scope" : String(value);
    // Stand-ins for @fastify/cors, @fastify/under-pressure, @fastify/rate-limit
    // and @fastify/otel: each adds a root-level onRequest hook, as they do.
    const earlier = fp(async (app: FastifyInstance) => {
      app.addHook("onRequest", async (req) => {
        seen.before = kind(req.scope);
        first = req.scope;
      });
      app.addHook("preHandler", async (req) => {
        seen.beforePreHandler = kind(req.scope);
        same = req.scope === first;
      });
    });
    const later = fp(async (app: FastifyInstance) => {
      app.addHook("onRequest", async (req) => void (seen.after = kind(req.scope)));
    });
    const app = Fastify();
    await app.register(earlier);
    await app.register(fastifyGoGoScope);
    await app.register(later);
    app.get("/", async () => "ok");
    const port = await listen(app);
    t.after(() => app.close());
    const response = await request(port, "/");
    assert.equal(response.status, 200);
    assert.deepEqual(seen, { before: "Scope", beforePreHandler: "Scope", after: "Scope" });
    assert.ok(same, "the scope created on the early read is the request's scope");
    assert.equal(app.scope.childCount, 0, "and it was disposed with the response");
  });
});
