// The plugin's trace options: `traceparent` continues an incoming W3C trace in
// the request scope and request.log; `scopeTreeRoute` serves the live tree.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { parseTraceparent } from "../../src/fastify/trace.ts";
import { deferred, logCollector } from "./_helpers.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const HEADER = `00-${TRACE}-${PARENT}-01`;

describe("trace: traceparent", () => {
  it("gives the request scope the header's traceId, a new spanId, and binds them to request.log", async () => {
    const logs = logCollector();
    const app = Fastify({ logger: { stream: logs.stream } });
    await app.register(fastifyGoGoScope, { traceparent: true });
    app.get("/", (request) => {
      request.log.info("in handler");
      const child = request.scope.createChild({ logCorrelation: true });
      return {
        traceId: request.scope.traceId,
        spanId: request.scope.spanId,
        childTrace: child.traceId,
        childParentSpan:
          (child.logger as unknown as { getCorrelationContext(): { parentSpanId?: string } })
            .getCorrelationContext().parentSpanId,
      };
    });
    const res = await app.inject({ url: "/", headers: { traceparent: HEADER } });
    const body = res.json();
    assert.equal(body.traceId, TRACE);
    assert.match(body.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(body.spanId, PARENT);
    assert.equal(body.childTrace, TRACE);
    assert.equal(body.childParentSpan, body.spanId);
    const line = logs.records.find((r) => r.msg === "in handler")!;
    assert.equal(line.traceId, TRACE);
    assert.equal(line.spanId, body.spanId);
    const completed = logs.records.find((r) => r.msg === "request completed")!;
    assert.equal(completed.traceId, TRACE);
    await app.close();
  });

  it("leaves requests without the header, with a bad header, or with the option off untouched", async () => {
    for (
      const [opts, headers] of [
        [{ traceparent: true }, {}],
        [{ traceparent: true }, { traceparent: "garbage" }],
        [{}, { traceparent: HEADER }],
      ] as const
    ) {
      const logs = logCollector();
      const app = Fastify({ logger: { stream: logs.stream } });
      await app.register(fastifyGoGoScope, opts);
      app.get("/", (request) => {
        request.log.info("in handler");
        return { traceId: request.scope.traceId ?? null };
      });
      const res = await app.inject({ url: "/", headers });
      assert.equal(res.json().traceId, null);
      assert.equal(logs.records.find((r) => r.msg === "in handler")!.traceId, undefined);
      await app.close();
    }
  });

  it("parses only valid W3C traceparent values", () => {
    assert.deepEqual(parseTraceparent(HEADER), { traceId: TRACE, parentSpanId: PARENT });
    assert.equal(parseTraceparent(`ff-${TRACE}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent(`00-${"0".repeat(32)}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${"0".repeat(16)}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE.toUpperCase()}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent([HEADER, HEADER]), undefined);
  });

  it("rejects a non-boolean option naming it", async () => {
    const app = Fastify();
    await assert.rejects(
      async () => await app.register(fastifyGoGoScope, { traceparent: "yes" as never }),
      {
        message: 'fastifyGoGoScope: "traceparent" must be a boolean or omitted, received "yes"',
      },
    );
  });
});

describe("trace: scopeTreeRoute", () => {
  it("is off by default", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    assert.equal((await app.inject("/_scope/tree")).statusCode, 404);
    await app.close();
  });

  it("serves the live tree, with in-flight requests, as text or Mermaid", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { name: "api", scopeTreeRoute: "/_scope/tree" });
    const gate = deferred();
    const entered = deferred();
    app.get("/slow", async (request) => {
      const t = request.scope.task(() => gate.promise);
      entered.resolve();
      await t;
      return "done";
    });
    const slow = app.inject("/slow");
    await entered.promise;
    const res = await app.inject("/_scope/tree");
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    assert.match(res.body, /^📦 api \[children:\d\]\n/);
    assert.match(res.body, /📦 request-\S+ \[tasks:1\]/);
    const mermaid = await app.inject("/_scope/tree?format=mermaid");
    assert.match(mermaid.body, /^graph TD\n/);
    gate.resolve();
    assert.equal((await slow).body, "done");
    await app.close();
  });

  it("rejects a path that does not start with / naming the option", async () => {
    const app = Fastify();
    await assert.rejects(
      async () => await app.register(fastifyGoGoScope, { scopeTreeRoute: "tree" }),
      {
        name: "RangeError",
        message:
          'fastifyGoGoScope: "scopeTreeRoute" must be a path starting with "/", received "tree"',
      },
    );
  });
});
