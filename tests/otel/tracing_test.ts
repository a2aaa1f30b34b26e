// `tracing`: with the real OpenTelemetry SDK (in-memory exporter, the
// AsyncLocalStorage context manager) over real sockets: a task's span is a
// child of the request's span and the parent of what its function calls;
// failures, retries, breakers, timeouts and clients that leave are recorded;
// no span is ever left open, @fastify/otel's request span included.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { CircuitBreaker } from "../../src/core/mod.ts";
import { deferred, listen, request, requestAndLeave, waitFor } from "../fastify/_helpers.ts";
import {
  fakeDatabase,
  finished,
  installGlobalTracing,
  only,
  openSpans,
  parentOf,
  provider,
  resetSpans,
} from "./_otel.ts";

installGlobalTracing();
const db = fakeDatabase();

describe("tracing: without @fastify/otel (the plugin makes the SERVER span)", () => {
  let app: FastifyInstance;
  let port: number;
  const entered = deferred();
  let held = 0;

  before(async () => {
    app = Fastify();
    await app.register(fastifyGoGoScope, { tracing: true });
    app.get("/users/:id", async (request) => {
      const [err, row] = await request.scope.task(() => db.query("SELECT 1", 1), {
        name: "load-user",
      });
      if (err) throw err;
      return { row };
    });
    app.get("/fails", async (request) => {
      const [err] = await request.scope.task(() => {
        throw new TypeError("bad input");
      }, { name: "parse" });
      if (err) throw err;
    });
    app.get("/slow", async (request) => {
      const [err] = await request.scope.task(({ signal }) => {
        const pending = db.query("SELECT slowly", 60_000, signal);
        entered.resolve();
        return pending;
      }, { name: "slow-query" });
      if (err) throw err;
      return "never";
    });
    app.get("/hold", async (request) => {
      const [err] = await request.scope.task(({ signal }) => {
        held++;
        return db.query("SELECT held", 60_000, signal);
      }, { name: "hold" });
      if (err) throw err;
    });
    app.get("/retries", async (request) => {
      let n = 0;
      const [err, value] = await request.scope.task(() => {
        if (++n < 3) throw new Error(`flaky ${n}`);
        return n;
      }, { name: "flaky", retry: { maxRetries: 3, delay: 1 } });
      if (err) throw err;
      return { value };
    });
    app.get("/nested", async (request) => {
      const [err, value] = await request.scope.task(async () => {
        const [inner, v] = await request.scope.task(() => db.query("SELECT 2", 1), {
          name: "inner",
        });
        if (inner) throw inner;
        return v;
      }, { name: "outer" });
      if (err) throw err;
      return { value };
    });
    app.get("/unnamed", async (request) => {
      await request.scope.task(() => 1);
      await request.scope.task(function loadProfile() {
        return 2;
      });
      return "ok";
    });
    port = await listen(app);
  });

  after(async () => {
    await app.close();
  });

  beforeEach(() => resetSpans());

  it("SERVER span named {method} {route}; task span under it; the database call under the task", async () => {
    const res = await request(port, "/users/42?x=1");
    assert.equal(res.status, 200);
    await waitFor(() => finished().length === 3, "three spans");
    const server = only("GET /users/:id");
    const task = only("load-user");
    const query = only("SELECT users");
    assert.equal(server.kind, SpanKind.SERVER);
    assert.deepEqual(
      {
        method: server.attributes["http.request.method"],
        route: server.attributes["http.route"],
        path: server.attributes["url.path"],
        scheme: server.attributes["url.scheme"],
        status: server.attributes["http.response.status_code"],
      },
      { method: "GET", route: "/users/:id", path: "/users/42", scheme: "http", status: 200 },
    );
    assert.equal(server.status.code, SpanStatusCode.UNSET);
    assert.equal(server.attributes["error.type"], undefined);
    assert.equal(task.kind, SpanKind.INTERNAL);
    assert.equal(parentOf(task), server.spanContext().spanId);
    assert.equal(parentOf(query), task.spanContext().spanId);
    assert.equal(query.spanContext().traceId, server.spanContext().traceId);
    assert.equal(task.attributes["gogoscope.task.outcome"], "ok");
    assert.equal(task.attributes["gogoscope.task.name"], "load-user");
    assert.equal(openSpans.open.size, 0);
  });

  it("a failed task: status ERROR, the exception recorded, error.type; the 500 marks the SERVER span", async () => {
    const res = await request(port, "/fails");
    assert.equal(res.status, 500);
    await waitFor(() => finished().length === 2, "two spans");
    const task = only("parse");
    assert.equal(task.status.code, SpanStatusCode.ERROR);
    assert.equal(task.status.message, "bad input");
    assert.equal(task.attributes["error.type"], "TypeError");
    assert.equal(task.attributes["gogoscope.task.outcome"], "error");
    const exception = task.events.find((e) => e.name === "exception");
    assert.equal(exception?.attributes?.["exception.message"], "bad input");
    const server = only("GET /fails");
    assert.equal(server.status.code, SpanStatusCode.ERROR);
    assert.equal(server.attributes["error.type"], "500");
    assert.equal(server.attributes["http.response.status_code"], 500);
  });

  it("a client that leaves mid-task: every span of the request ends, with error.type", async () => {
    await requestAndLeave(port, "/slow", entered.promise);
    await waitFor(() => finished().length === 3, "three spans ended");
    const task = only("slow-query");
    assert.equal(task.attributes["gogoscope.task.outcome"], "cancelled");
    assert.equal(task.attributes["error.type"], "client_disconnected");
    assert.equal(task.status.code, SpanStatusCode.ERROR);
    const server = only("GET /slow");
    assert.equal(server.attributes["error.type"], "client_disconnected");
    assert.equal(server.status.code, SpanStatusCode.ERROR);
    assert.equal(server.attributes["http.response.status_code"], undefined);
    // The database call saw the task's signal and ended too.
    assert.equal(parentOf(only("SELECT users")), task.spanContext().spanId);
    assert.equal(openSpans.open.size, 0);
    assert.equal(openSpans.started, openSpans.ended);
  });

  it("50 requests, every other one left mid-task: no span stays open", async () => {
    const leaves: Promise<void>[] = [];
    const completes: Promise<unknown>[] = [];
    const allHeld = waitFor(() => held === 25, "25 requests held", 5000);
    for (let i = 0; i < 25; i++) {
      completes.push(request(port, `/users/${i}`));
      leaves.push(requestAndLeave(port, "/hold", allHeld));
    }
    await Promise.all([...leaves, ...completes]);
    await waitFor(() => openSpans.open.size === 0, "every span ended", 5000);
    assert.equal(openSpans.started, openSpans.ended);
    const left = finished().filter((s) => s.name === "GET /hold");
    assert.equal(left.length, 25);
    assert.ok(left.every((s) => s.attributes["error.type"] === "client_disconnected"));
    assert.equal(finished().filter((s) => s.name === "hold").length, 25);
  });

  it("retries: an event per retry and their count", async () => {
    const res = await request(port, "/retries");
    assert.equal(res.body, '{"value":3}');
    await waitFor(() => finished().length === 2, "two spans");
    const task = only("flaky");
    assert.equal(task.attributes["gogoscope.task.retries"], 2);
    assert.equal(task.attributes["gogoscope.task.retry"], true);
    const retries = task.events.filter((e) => e.name === "gogoscope.task.retry");
    assert.deepEqual(
      retries.map((
        e,
      ) => [e.attributes?.["gogoscope.task.attempt"], e.attributes?.["exception.message"]]),
      [[2, "flaky 1"], [3, "flaky 2"]],
    );
  });

  it("a task started inside a task nests under it", async () => {
    await request(port, "/nested");
    await waitFor(() => finished().length === 4, "four spans");
    const outer = only("outer");
    const inner = only("inner");
    assert.equal(parentOf(outer), only("GET /nested").spanContext().spanId);
    assert.equal(parentOf(inner), outer.spanContext().spanId);
    assert.equal(parentOf(only("SELECT users")), inner.spanContext().spanId);
  });

  it("an unnamed task's span: its function's name, else `task`", async () => {
    await request(port, "/unnamed");
    await waitFor(() => finished().length === 3, "three spans");
    assert.equal(only("task").attributes["gogoscope.task.name"], undefined);
    assert.equal(typeof only("task").attributes["gogoscope.task.id"], "number");
    only("loadProfile");
  });
});

describe("tracing: the rest of the request's story", () => {
  beforeEach(() => resetSpans());

  it("off by default: no span at all, even with a global provider", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    app.get("/", async (request) => (await request.scope.task(() => "x"))[1]);
    const port = await listen(app);
    await request(port, "/");
    await app.close();
    assert.equal(openSpans.started, 0);
  });

  it("a request deadline: the task's span ends as timeout, the SERVER span with the 504", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { tracing: true, timeout: 30 });
    app.get("/deadline", async (request) => {
      const [err] = await request.scope.task(({ signal }) => db.query("SELECT", 60_000, signal), {
        name: "too-slow",
      });
      if (err) throw err;
    });
    const port = await listen(app);
    const res = await request(port, "/deadline");
    assert.equal(res.status, 504);
    await waitFor(() => finished().length === 3, "three spans");
    await app.close();
    const task = only("too-slow");
    assert.equal(task.attributes["gogoscope.task.outcome"], "timeout");
    assert.equal(task.attributes["error.type"], "timeout");
    const server = only("GET /deadline");
    assert.equal(server.attributes["http.response.status_code"], 504);
    assert.equal(server.attributes["error.type"], "504");
  });

  it("the circuit breaker: its state on the span, a rejection as an event", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    const app = Fastify();
    await app.register(fastifyGoGoScope, { tracing: true, circuitBreaker: breaker });
    app.get("/dep", async (request) => {
      const [err] = await request.scope.task(() => {
        throw new Error("down");
      }, { name: "dependency" });
      return { error: err?.name };
    });
    const port = await listen(app);
    assert.equal((await request(port, "/dep")).body, '{"error":"UnknownError"}');
    assert.equal((await request(port, "/dep")).body, '{"error":"CircuitOpenError"}');
    await app.close();
    const [first, second] = finished().filter((s) => s.name === "dependency");
    assert.equal(first?.attributes["gogoscope.circuit_breaker.state"], "open");
    assert.equal(second?.attributes["error.type"], "CircuitOpenError");
    assert.ok(second?.events.some((e) => e.name === "gogoscope.circuit_breaker.rejected"));
  });

  it("root tasks get spans under the active context; `{ tracer }` is used when given", async () => {
    const tracer = provider.getTracer("mine");
    const app = Fastify();
    await app.register(fastifyGoGoScope, { tracing: { tracer } });
    const outer = tracer.startSpan("job");
    await context.with(
      trace.setSpan(context.active(), outer),
      () => app.scope.task(() => db.query("SELECT", 1), { name: "background" }),
    );
    outer.end();
    await app.close();
    const background = only("background");
    assert.equal(parentOf(background), outer.spanContext().spanId);
    assert.equal(background.instrumentationScope.name, "mine");
    assert.equal(parentOf(only("SELECT users")), background.spanContext().spanId);
  });

  it("app.close() with a request in flight: its spans end (shutdown)", async () => {
    const app = Fastify({ forceCloseConnections: true });
    await app.register(fastifyGoGoScope, { tracing: true });
    const entered = deferred();
    app.get("/hang", async (request) => {
      const [err] = await request.scope.task(({ signal }) => {
        entered.resolve();
        return db.query("SELECT", 60_000, signal);
      }, { name: "hang" });
      if (err) throw err;
    });
    const port = await listen(app);
    const pending = request(port, "/hang").catch(() => undefined);
    await entered.promise;
    await app.close();
    await pending;
    await waitFor(() => openSpans.open.size === 0, "every span ended");
    assert.equal(only("hang").attributes["error.type"], "shutdown");
  });
});

describe("tracing: an incoming trace", () => {
  it("the plugin's SERVER span continues the client's traceparent (through the SDK's propagator)", async () => {
    resetSpans();
    // A W3C traceparent propagator, as the SDK registers one.
    propagation.setGlobalPropagator({
      inject() {},
      extract(ctx, carrier, getter: TextMapGetter) {
        const header = getter.get(carrier, "traceparent");
        const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(header ?? ""));
        if (m === null) return ctx;
        return trace.setSpanContext(ctx, {
          traceId: m[1]!,
          spanId: m[2]!,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        });
      },
      fields: () => ["traceparent"],
    });
    try {
      const app = Fastify();
      await app.register(fastifyGoGoScope, { tracing: true });
      app.get("/", async (request) => (await request.scope.task(() => "x", { name: "t" }))[1]);
      await app.inject({
        url: "/",
        headers: { traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01` },
      });
      await app.close();
      const server = only("GET /");
      assert.equal(server.spanContext().traceId, "ab".repeat(16));
      assert.equal(parentOf(server), "cd".repeat(8));
      assert.equal(only("t").spanContext().traceId, "ab".repeat(16));
    } finally {
      propagation.disable();
    }
  });
});

describe("tracing: beside @fastify/otel", () => {
  let app: FastifyInstance;
  let port: number;
  const entered = deferred();

  before(async () => {
    const instrumentation = new FastifyOtelInstrumentation();
    instrumentation.setTracerProvider(provider);
    app = Fastify();
    await app.register(instrumentation.plugin());
    await app.register(fastifyGoGoScope, { tracing: true });
    app.get("/users/:id", async (request) => {
      const [err, row] = await request.scope.task(() => db.query("SELECT 1", 1), {
        name: "load-user",
      });
      if (err) throw err;
      return { row };
    });
    app.get("/slow", async (request) => {
      const [err] = await request.scope.task(({ signal }) => {
        const pending = db.query("SELECT slowly", 60_000, signal);
        entered.resolve();
        return pending;
      }, { name: "slow-query" });
      if (err) throw err;
      return "never";
    });
    port = await listen(app);
  });

  after(async () => {
    await app.close();
  });

  beforeEach(() => resetSpans());

  it("its request span is the task's parent; the plugin makes no SERVER span of its own", async () => {
    const res = await request(port, "/users/7");
    assert.equal(res.status, 200);
    await waitFor(() => finished().some((s) => s.name === "request"), "the request span");
    await waitFor(() => openSpans.open.size === 0, "every span ended");
    const requestSpan = only("request");
    const task = only("load-user");
    assert.equal(parentOf(task), requestSpan.spanContext().spanId);
    assert.equal(parentOf(only("SELECT users")), task.spanContext().spanId);
    assert.equal(finished().filter((s) => s.kind === SpanKind.SERVER).length, 1);
    assert.equal(finished().some((s) => s.name === "GET /users/:id"), false);
  });

  it("a client that leaves: @fastify/otel's request span is ended, with error.type", async () => {
    await requestAndLeave(port, "/slow", entered.promise);
    await waitFor(() => finished().some((s) => s.name === "request"), "the request span ended");
    await waitFor(() => openSpans.open.size === 0, "every span ended");
    const requestSpan = only("request");
    assert.equal(requestSpan.attributes["error.type"], "client_disconnected");
    assert.equal(requestSpan.status.code, SpanStatusCode.ERROR);
    const task = only("slow-query");
    assert.equal(task.attributes["error.type"], "client_disconnected");
    assert.equal(parentOf(task), requestSpan.spanContext().spanId);
  });
});
