// `metrics`: with the real OpenTelemetry SDK (a MeterProvider and a reader
// collected on demand) over real sockets: task durations by outcome and
// route in the conventions' buckets, cancellations by reason, live request
// scopes back to zero, breaker state changes; and the Prometheus example,
// scraped.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { CircuitBreaker } from "../../src/core/mod.ts";
import { DURATION_BUCKETS } from "../../src/otel/mod.ts";
import { deferred, listen, request, requestAndLeave, untilAborted } from "../fastify/_helpers.ts";
import { prometheusExample } from "../../examples/prometheus.ts";

/** A reader the test collects when it wants. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function points(reader: TestReader, name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect() as { resourceMetrics: ResourceMetrics };
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    for (const metric of scopeMetrics.metrics) {
      if (metric.descriptor.name === name) return metric.dataPoints as DataPoint<unknown>[];
    }
  }
  return [];
}

function withAttributes(
  found: DataPoint<unknown>[],
  attributes: Record<string, unknown>,
): DataPoint<unknown> | undefined {
  return found.find((p) =>
    Object.entries(attributes).every(([k, v]) => p.attributes[k] === v) &&
    Object.keys(p.attributes).length === Object.keys(attributes).length
  );
}

async function metricsApp(
  options: Record<string, unknown> = {},
): Promise<{ app: FastifyInstance; reader: TestReader; provider: MeterProvider }> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const app = Fastify();
  await app.register(fastifyGoGoScope, {
    metrics: { meter: provider.getMeter("test") },
    ...options,
  });
  return { app, reader, provider };
}

describe("metrics", () => {
  it("task durations: a histogram in seconds, by outcome and route, in the advised buckets", async () => {
    const { app, reader, provider } = await metricsApp({ timeout: 40 });
    app.get("/ok/:id", async (request) => (await request.scope.task(() => 1))[1]);
    app.get("/error", async (request) => {
      await request.scope.task(() => {
        throw new Error("x");
      });
      return "handled";
    });
    app.get("/deadline", async (request) => {
      const [err] = await request.scope.task(({ signal }) => untilAborted(signal));
      if (err) throw err;
    });
    const port = await listen(app);
    await request(port, "/ok/1");
    await request(port, "/ok/2");
    await request(port, "/error");
    assert.equal((await request(port, "/deadline")).status, 504);
    const found = await points(reader, "gogoscope.task.duration");
    const ok = withAttributes(found, { "gogoscope.task.outcome": "ok", "http.route": "/ok/:id" });
    assert.equal((ok?.value as Histogram).count, 2);
    assert.deepEqual((ok?.value as Histogram).buckets.boundaries, DURATION_BUCKETS);
    const error = withAttributes(found, {
      "gogoscope.task.outcome": "error",
      "http.route": "/error",
    });
    assert.equal((error?.value as Histogram).count, 1);
    const timeout = withAttributes(found, {
      "gogoscope.task.outcome": "timeout",
      "http.route": "/deadline",
    });
    assert.equal((timeout?.value as Histogram).count, 1);
    assert.ok(((timeout?.value as Histogram).sum ?? 0) >= 0.03, "about the 40 ms deadline");
    await app.close();
    await provider.shutdown();
  });

  it("cancellations by reason and route; live request scopes go up and back to zero", async () => {
    const { app, reader, provider } = await metricsApp({ timeout: 30 });
    const entered = deferred();
    app.get("/leave", async (request) => {
      const t = request.scope.task(({ signal }) => untilAborted(signal));
      entered.resolve();
      await t;
      return "gone";
    });
    app.get("/deadline", async (request) => {
      const [err] = await request.scope.task(({ signal }) => untilAborted(signal));
      if (err) throw err;
    });
    const port = await listen(app);
    const leaving = requestAndLeave(port, "/leave", entered.promise);
    await entered.promise;
    const live = withAttributes(await points(reader, "gogoscope.request.active"), {
      "http.route": "/leave",
    });
    assert.equal(live?.value, 1);
    await leaving;
    await request(port, "/deadline");
    // The scope of the request that left ends when its response closes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cancellations = await points(reader, "gogoscope.request.cancellations");
    assert.equal(
      withAttributes(cancellations, {
        "gogoscope.cancel.reason": "client_disconnected",
        "http.route": "/leave",
      })?.value,
      1,
    );
    assert.equal(
      withAttributes(cancellations, {
        "gogoscope.cancel.reason": "timeout",
        "http.route": "/deadline",
      })
        ?.value,
      1,
    );
    const active = await points(reader, "gogoscope.request.active");
    assert.deepEqual(active.map((p) => p.value), [0, 0]);
    await app.close();
    await provider.shutdown();
  });

  it("circuit breaker state changes, by the state entered; root tasks have no route", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 20 });
    const { app, reader, provider } = await metricsApp({ circuitBreaker: breaker });
    await app.ready();
    await app.scope.task(() => {
      throw new Error("down");
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await app.scope.task(() => "up");
    const changes = await points(reader, "gogoscope.circuit_breaker.state_changes");
    const entered = (state: string) =>
      changes.filter((p) => p.attributes["gogoscope.circuit_breaker.state"] === state)
        .reduce((n, p) => n + (p.value as number), 0);
    assert.equal(entered("open"), 1);
    assert.equal(entered("half-open"), 1);
    assert.equal(entered("closed"), 1);
    const durations = await points(reader, "gogoscope.task.duration");
    assert.deepEqual(
      durations.map((p) => p.attributes).sort((a, b) =>
        String(a["gogoscope.task.outcome"]).localeCompare(String(b["gogoscope.task.outcome"]))
      ),
      [{ "gogoscope.task.outcome": "error" }, { "gogoscope.task.outcome": "ok" }],
    );
    await app.close();
    // Unsubscribed when the app closed: a later transition is not counted.
    await breaker.execute(() => Promise.reject(new Error("down again"))).catch(() => {});
    assert.equal(breaker.state, "open");
    const after = await points(reader, "gogoscope.circuit_breaker.state_changes");
    assert.equal(
      after.filter((p) => p.attributes["gogoscope.circuit_breaker.state"] === "open")
        .reduce((n, p) => n + (p.value as number), 0),
      1,
    );
    await provider.shutdown();
  });

  it("the Prometheus example: GET /metrics serves the histogram and counters as text", async () => {
    const { app, meterProvider } = await prometheusExample();
    const port = await listen(app);
    // Both tasks wait well above the first bucket's 5 ms (a timer may fire up to a millisecond
    // early against performance.now on Node).
    await request(port, "/work?ms=8");
    await request(port, "/work?ms=20");
    const scraped = await request(port, "/metrics");
    await app.close();
    await meterProvider.shutdown();
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers["content-type"] ?? "", /^text\/plain/);
    assert.match(scraped.body, /# TYPE gogoscope_task_duration histogram/);
    assert.match(
      scraped.body,
      /gogoscope_task_duration_count\{gogoscope_task_outcome="ok",http_route="\/work",[^}]*\} 2/,
    );
    assert.match(scraped.body, /gogoscope_task_duration_bucket\{[^}]*le="0\.005"\} 0/);
    assert.match(scraped.body, /gogoscope_task_duration_bucket\{[^}]*le="10"\} 2/);
    assert.match(scraped.body, /gogoscope_request_active\{http_route="\/work",[^}]*\} 0/);
  });
});
