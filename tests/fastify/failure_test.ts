// Failure behaviour under load, over real sockets on 127.0.0.1:0: storms of
// clients that leave, of timeouts, of throwing cleanups, a circuit breaker
// under concurrent requests, and a mix of all of them. After each storm no
// request scope is left, every started task was aborted or settled, and no
// rejection went unhandled. Counts stay small: the big ones live in bench/.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import {
  CircuitBreaker,
  ClientDisconnectedError,
  fastifyGoGoScope,
  TimeoutError,
} from "../../mod.ts";
import {
  activeTimers,
  type Deferred,
  deferred,
  inBatches,
  listen,
  logCollector,
  request,
  requestAndLeave,
  type SimpleResponse,
  sleep,
  waitFor,
  watchUnhandledRejections,
} from "./_helpers.ts";

type Query = { Querystring: { i?: string } };

/** A started task: its signal, and whether its function has settled. */
interface Started {
  kind: string;
  signal: AbortSignal;
  settled: boolean;
}

/**
 * A task function that waits `ms` (or forever, almost) and rejects with the
 * signal's reason as soon as it aborts. Its timer is always cleared.
 */
function waitTask(
  kind: string,
  ms: number,
  started: Started[],
  onStart?: () => void,
): ({ signal }: { signal: AbortSignal }) => Promise<string> {
  return ({ signal }) => {
    const entry: Started = { kind, signal, settled: false };
    started.push(entry);
    const work = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve(kind), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
    });
    onStart?.();
    return work.finally(() => (entry.settled = true));
  };
}

/** Lets a pending unhandled rejection be reported before it is asserted on. */
async function assertNoUnhandled(watch: { seen: unknown[] }): Promise<void> {
  await sleep(10);
  assert.deepEqual(watch.seen, [], "no unhandled rejection");
}

describe("failure: a storm of clients that leave", () => {
  it("GET and POST with a body: every scope disposed, every task aborted with ClientDisconnectedError", async (t) => {
    const watch = watchUnhandledRejections();
    t.after(() => watch.stop());
    const app = Fastify() as unknown as FastifyInstance;
    await app.register(fastifyGoGoScope);
    const entered = new Map<string, Deferred<void>>();
    t.after(async () => {
      for (const d of entered.values()) d.resolve(); // a failed run must not leave clients hanging
      await app.close();
    });
    const started: Started[] = [];
    const handlerErrors: unknown[] = [];
    const bodies: unknown[] = [];
    const handler = async (request: {
      query: { i?: string };
      body?: unknown;
      scope: FastifyInstance["scope"];
    }) => {
      if (request.body !== undefined) bodies.push(request.body);
      const [err] = await request.scope.task(
        waitTask("hang", 2000, started, () => entered.get(request.query.i!)?.resolve()),
      );
      handlerErrors.push(err);
      if (err) throw err;
      return "finished";
    };
    app.get<Query>("/hang", handler);
    app.post<Query>("/hang", handler);
    const port = await listen(app);

    const perMethod = 100;
    await inBatches(perMethod * 2, 50, (i) => {
      const d = deferred();
      entered.set(String(i), d);
      const post = i % 2 === 1;
      return requestAndLeave(
        port,
        `/hang?i=${i}`,
        d.promise,
        post ? { method: "POST", body: JSON.stringify({ i }) } : {},
      );
    });

    await waitFor(() => app.scope.childCount === 0, "every request scope disposed", 5000);
    await waitFor(() => handlerErrors.length === perMethod * 2, "every handler returned", 5000);
    assert.equal(started.length, perMethod * 2, "every request started its task");
    assert.equal(started.filter((s) => s.signal.aborted).length, started.length, "aborts = starts");
    for (const { signal } of started) {
      assert.ok(signal.reason instanceof ClientDisconnectedError, `got ${String(signal.reason)}`);
    }
    for (const err of handlerErrors) {
      assert.ok(err instanceof ClientDisconnectedError, `task result: ${String(err)}`);
      assert.equal(err.code, "GGS_ERR_CLIENT_DISCONNECTED");
    }
    assert.ok(started.every((s) => s.settled), "every task function settled");
    assert.equal(bodies.length, perMethod, "every POST body was read before the client left");
    assert.deepEqual(
      new Set(bodies.map((b) => (b as { i: number }).i)),
      new Set(Array.from({ length: perMethod }, (_, k) => 2 * k + 1)),
    );
    await assertNoUnhandled(watch);
  });
});

describe("failure: a storm of timeouts", () => {
  it("every request answers 504 GGS_ERR_TIMEOUT, every scope disposed, no timer left", async (t) => {
    const watch = watchUnhandledRejections();
    t.after(() => watch.stop());
    const timersBefore = activeTimers();
    const app = Fastify() as unknown as FastifyInstance;
    t.after(() => app.close());
    await app.register(fastifyGoGoScope, { timeout: 20 });
    const started: Started[] = [];
    app.get("/slow", async (request) => {
      const [err, value] = await request.scope.task(waitTask("slow", 1000, started));
      if (err) throw err;
      return value;
    });
    const port = await listen(app);

    const total = 100;
    const responses = await inBatches(total, 50, () => request(port, "/slow"));
    for (const response of responses) {
      assert.equal(response.status, 504, response.body);
      const body = JSON.parse(response.body);
      assert.equal(body.code, "GGS_ERR_TIMEOUT");
      assert.equal(body.statusCode, 504);
      assert.match(body.message, /exceeded its timeout of 20 ms/);
    }
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    // A task started after its scope's deadline never runs, so starts <= requests.
    assert.ok(started.length <= total);
    assert.equal(started.filter((s) => s.signal.aborted).length, started.length, "aborts = starts");
    for (const { signal } of started) {
      assert.ok(signal.reason instanceof TimeoutError, `got ${String(signal.reason)}`);
    }
    await app.close();
    assert.equal(activeTimers(), timersBefore, "no timer left behind");
    await assertNoUnhandled(watch);
  });

  it("requests that end before the deadline leave no timer behind", async (t) => {
    const timersBefore = activeTimers();
    const app = Fastify() as unknown as FastifyInstance;
    t.after(() => app.close());
    // Long enough never to fire during the test, short enough not to hold a
    // failing run open for long.
    await app.register(fastifyGoGoScope, { timeout: 1000 });
    app.get("/task", async (request) => (await request.scope.task(() => "task"))[1]);
    app.get("/plain", async () => "plain");
    const port = await listen(app);
    const responses = await inBatches(
      40,
      20,
      (i) => request(port, i % 2 === 0 ? "/task" : "/plain"),
    );
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body}`),
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? "200 task" : "200 plain")),
    );
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    await app.close();
    assert.equal(
      activeTimers(),
      timersBefore,
      "a disposed request scope must clear its deadline timer",
    );
  });
});

describe("failure: cleanups that throw", () => {
  it("under many requests each failure is logged with request.log.error, the rest still run", async (t) => {
    const watch = watchUnhandledRejections();
    t.after(() => watch.stop());
    const logs = logCollector();
    const app = Fastify({
      logger: { level: "error", stream: logs.stream },
    }) as unknown as FastifyInstance;
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    let cleanupsRan = 0;
    const requestIds: string[] = [];
    // ?n=1: one throwing onDispose; ?n=2: also a throwing provide() disposer.
    app.get<{ Querystring: { n: string } }>("/work", async (request) => {
      const id = request.id;
      requestIds.push(id);
      request.scope.onDispose(() => void cleanupsRan++); // runs last
      if (request.query.n === "2") {
        request.scope.provide("connection", () => ({ id }), {
          dispose: () => {
            throw new Error(`disposer failed ${id}`);
          },
        });
      }
      request.scope.onDispose(async () => {
        await Promise.resolve();
        throw new Error(`cleanup failed ${id}`);
      });
      request.scope.onDispose(() => void cleanupsRan++); // runs first
      const [err, value] = await request.scope.task(() => "done");
      if (err) throw err;
      return { value };
    });
    app.get("/ok", async (request) => ({ ok: (await request.scope.task(() => true))[1] }));
    const port = await listen(app);

    const total = 60;
    const responses = await inBatches(total, 30, (i) => request(port, `/work?n=${1 + (i % 2)}`));
    for (const response of responses) {
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"value":"done"}');
    }
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    await waitFor(() => logs.records.length >= total, "one error logged per request");
    assert.equal(cleanupsRan, 2 * total, "the cleanups around the throwing ones still ran");
    assert.equal(logs.records.length, total, "exactly one record per request, nothing else");

    const seen = new Set<string>();
    for (const record of logs.records) {
      assert.equal(record.msg, "go-go-scope: disposing the request scope failed");
      const reqId = record.reqId as string;
      assert.equal(typeof reqId, "string", "logged with the request's logger");
      seen.add(reqId);
      const messages = record.err?.aggregateErrors === undefined
        ? [record.err?.message]
        : record.err.aggregateErrors.map((e) => e.message);
      const expected = messages.length === 2
        ? [`cleanup failed ${reqId}`, `disposer failed ${reqId}`]
        : [`cleanup failed ${reqId}`];
      assert.deepEqual(messages, expected, `errors of ${reqId}`);
    }
    assert.deepEqual(seen, new Set(requestIds), "every request's failure was logged");
    const aggregated = logs.records.filter((r) => r.err?.aggregateErrors !== undefined).length;
    assert.equal(aggregated, total / 2, "both failures of a ?n=2 request are in its record");

    // The server keeps serving.
    const after = await inBatches(20, 10, (i) => request(port, i % 2 === 0 ? "/ok" : "/work?n=1"));
    assert.deepEqual(
      after.map((r) => `${r.status} ${r.body}`),
      Array.from(
        { length: 20 },
        (_, i) => (i % 2 === 0 ? '200 {"ok":true}' : '200 {"value":"done"}'),
      ),
    );
    await waitFor(() => logs.records.length === total + 10, "the later failures logged too");
    assert.equal(cleanupsRan, 2 * total + 20);
    await assertNoUnhandled(watch);
  });
});

describe("failure: a circuit breaker under concurrent requests", () => {
  it("opens, then lets exactly one half-open trial through 20 concurrent requests, then closes", async (t) => {
    const watch = watchUnhandledRejections();
    t.after(() => watch.stop());
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 50 });
    const app = Fastify() as unknown as FastifyInstance;
    const gate = deferred();
    t.after(async () => {
      gate.resolve();
      await app.close();
    });
    await app.register(fastifyGoGoScope, { circuitBreaker: breaker });
    let calls = 0;
    let healthy = false;
    app.get("/dep", async (request) => {
      const [err, value] = await request.scope.task(async () => {
        calls++;
        if (!healthy) throw new Error("dependency down");
        await gate.promise; // slow, but succeeds
        return "fine";
      });
      if (err) throw err;
      return value;
    });
    const port = await listen(app);

    for (let i = 0; i < 3; i++) {
      const response = await request(port, "/dep");
      assert.equal(response.status, 500);
      assert.equal(JSON.parse(response.body).message, "dependency down");
    }
    assert.equal(calls, 3);
    assert.equal(breaker.state, "open");
    const rejected = await request(port, "/dep");
    assert.equal(rejected.status, 503);
    assert.equal(JSON.parse(rejected.body).code, "GGS_ERR_CIRCUIT_OPEN");
    assert.equal(calls, 3, "an open breaker does not call the dependency");

    await sleep(70); // past resetTimeout
    healthy = true;
    const done: SimpleResponse[] = [];
    const pending = Array.from(
      { length: 20 },
      () => request(port, "/dep").then((r) => void done.push(r)),
    );
    try {
      await waitFor(() => done.length === 19, "19 requests rejected while the trial is in flight");
    } finally {
      gate.resolve(); // the trial succeeds
    }
    await Promise.all(pending);
    assert.equal(calls, 4, "exactly one request reached the dependency");
    const ok = done.filter((r) => r.status === 200);
    const open = done.filter((r) => r.status === 503);
    assert.deepEqual(ok.map((r) => r.body), ["fine"], "the trial succeeded");
    assert.equal(open.length, 19);
    for (const response of open) {
      const body = JSON.parse(response.body);
      assert.equal(body.code, "GGS_ERR_CIRCUIT_OPEN");
      assert.equal(body.message, "Circuit breaker is open", "the message users compare");
    }
    assert.equal(done.indexOf(ok[0]!), 19, "the trial answered after every rejection");
    assert.equal(breaker.state, "closed");

    const next = await Promise.all(Array.from({ length: 5 }, () => request(port, "/dep")));
    assert.deepEqual(next.map((r) => `${r.status} ${r.body}`), Array(5).fill("200 fine"));
    assert.equal(calls, 9, "a closed breaker lets every request reach the dependency");
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    await assertNoUnhandled(watch);
  });
});

describe("failure: a mixed storm", () => {
  it("normal, slow, failing, leaving and timing-out requests interleaved", async (t) => {
    const watch = watchUnhandledRejections();
    t.after(() => watch.stop());
    const app = Fastify() as unknown as FastifyInstance;
    const entered = new Map<string, Deferred<void>>();
    t.after(async () => {
      for (const d of entered.values()) d.resolve();
      await app.close();
    });
    await app.register(fastifyGoGoScope);
    const started: Started[] = [];
    app.get("/normal", async (request) => {
      const [err, value] = await request.scope.task(waitTask("normal", 0, started));
      if (err) throw err;
      return { ok: value === "normal" };
    });
    app.get("/slow", async (request) => {
      const [err, value] = await request.scope.task(waitTask("slow", 20, started));
      if (err) throw err;
      return value;
    });
    app.get("/fail", async (request) => {
      const [err] = await request.scope.task(({ signal }) => {
        const entry: Started = { kind: "fail", signal, settled: true };
        started.push(entry);
        throw new Error("boom");
      });
      if (err) throw err;
      return "unreachable";
    });
    app.get<Query>("/hang", async (request) => {
      const [err, value] = await request.scope.task(
        waitTask("hang", 2000, started, () => entered.get(request.query.i!)?.resolve()),
      );
      if (err) throw err;
      return value;
    });
    app.get("/timeout", { config: { scope: { timeout: 20 } } }, async (request) => {
      const [err, value] = await request.scope.task(waitTask("timeout", 1000, started));
      if (err) throw err;
      return value;
    });
    const port = await listen(app);

    const kinds = ["normal", "slow", "fail", "hang", "timeout"] as const;
    const total = 125;
    const outcomes = await inBatches(total, 50, async (i) => {
      const kind = kinds[i % kinds.length]!;
      if (kind !== "hang") return { kind, response: await request(port, `/${kind}`) };
      const d = deferred();
      entered.set(String(i), d);
      await requestAndLeave(port, `/hang?i=${i}`, d.promise);
      return { kind, response: undefined };
    });

    for (const { kind, response } of outcomes) {
      if (kind === "hang") continue;
      assert.ok(response !== undefined);
      const body = response.body;
      switch (kind) {
        case "normal":
          assert.equal(`${response.status} ${body}`, '200 {"ok":true}');
          break;
        case "slow":
          assert.equal(`${response.status} ${body}`, "200 slow");
          break;
        case "fail":
          assert.equal(response.status, 500, body);
          assert.equal(JSON.parse(body).message, "boom");
          break;
        case "timeout":
          assert.equal(response.status, 504, body);
          assert.equal(JSON.parse(body).code, "GGS_ERR_TIMEOUT");
          break;
      }
    }
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed", 5000);
    await waitFor(() => started.every((s) => s.settled), "every task function settled", 5000);
    const count = (kind: string) => started.filter((s) => s.kind === kind).length;
    const perKind = total / kinds.length;
    for (const kind of ["normal", "slow", "fail", "hang"]) {
      assert.equal(count(kind), perKind, `${kind} tasks started`);
    }
    assert.ok(count("timeout") <= perKind);
    for (const s of started) {
      assert.ok(s.settled || s.signal.aborted, `a ${s.kind} task neither settled nor aborted`);
      if (s.kind === "hang") {
        assert.ok(s.signal.reason instanceof ClientDisconnectedError, String(s.signal.reason));
      }
      if (s.kind === "timeout") {
        assert.ok(s.signal.reason instanceof TimeoutError, String(s.signal.reason));
      }
    }
    await assertNoUnhandled(watch);
  });
});
