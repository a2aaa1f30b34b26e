// The plugin through app.inject(): registration, request scopes in every
// lifecycle stage, timeouts, per-route settings, the shared breaker, shutdown.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../../src/fastify/mod.ts";
import {
  AbortError,
  CircuitBreaker,
  CircuitOpenError,
  type Scope,
  TimeoutError,
} from "../../src/core/mod.ts";
import { activeTimers, deferred, logCollector, sleep, waitFor } from "./_helpers.ts";

async function build(
  options: FastifyGoGoScopeOptions = {},
  server: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify(server);
  await app.register(fastifyGoGoScope, options);
  return app;
}

describe("plugin: registration", () => {
  it("decorates the instance with a root scope named 'fastify-app' by default", async (t) => {
    const app = await build();
    t.after(() => app.close());
    await app.ready();
    assert.equal(app.scope.name, "fastify-app");
    assert.equal(app.scope.isDisposed, false);
    assert.equal(app.scope.parent, undefined);
  });

  it("names the root scope after the name option", async (t) => {
    const app = await build({ name: "my-api" });
    t.after(() => app.close());
    await app.ready();
    assert.equal(app.scope.name, "my-api");
  });

  it("is wrapped by fastify-plugin: the decoration is visible outside the plugin", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    assert.ok(app.hasDecorator("scope"));
    assert.ok(app.hasRequestDecorator("scope"));
    assert.ok(app.hasPlugin("@go-go-scope/adapter-fastify"));
  });

  it("gives sibling encapsulated contexts their own root scope", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    const roots: Scope[] = [];
    for (const name of ["a", "b"]) {
      await app.register(async (child) => {
        await child.register(fastifyGoGoScope, { name });
        child.get(`/${name}`, async (request) => request.scope.parent?.name);
        roots.push(child.scope);
      });
    }
    assert.equal((await app.inject("/a")).body, "a");
    assert.equal((await app.inject("/b")).body, "b");
    await app.close();
    assert.ok(roots.every((root) => root.isDisposed));
  });
});

describe("plugin: the request scope", () => {
  it("is a child of the root named request-<id>, with the request's logger and id", async (t) => {
    const app = await build({ name: "root" });
    t.after(() => app.close());
    let seen:
      | { name: string; parent: string | undefined; requestId: unknown; logger: boolean }
      | undefined;
    app.get("/", async (request) => {
      seen = {
        name: request.scope.name,
        parent: request.scope.parent?.name,
        requestId: request.scope.context.requestId,
        logger: request.scope.logger === request.log,
      };
      const [, ctx] = await request.scope.task(({ context }) => context.requestId);
      return { id: request.id, ctx };
    });
    const response = await app.inject("/");
    const { id, ctx } = response.json();
    assert.deepEqual(seen, { name: `request-${id}`, parent: "root", requestId: id, logger: true });
    assert.equal(ctx, id);
  });

  it("is disposed after the response and forgotten by the root", async (t) => {
    const app = await build();
    t.after(() => app.close());
    let requestScope: Scope | undefined;
    const cleanups: string[] = [];
    app.get("/", async (request) => {
      requestScope = request.scope;
      request.scope.onDispose(() => void cleanups.push("disposed"));
      assert.equal(app.scope.childCount, 1);
      return "ok";
    });
    const response = await app.inject("/");
    assert.equal(response.body, "ok");
    await waitFor(() => requestScope?.isDisposed === true, "request scope disposed");
    await waitFor(() => cleanups.length === 1, "cleanup ran");
    assert.equal(app.scope.childCount, 0);
    assert.deepEqual(cleanups, ["disposed"]);
  });

  it("aborts a background task of the request once the response has ended", async (t) => {
    const app = await build();
    t.after(() => app.close());
    const aborted = deferred<unknown>();
    app.get("/", async (request) => {
      request.scope.task(({ signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted.resolve(signal.reason);
            resolve();
          })
        )
      );
      return "sent";
    });
    assert.equal((await app.inject("/")).body, "sent");
    const reason = await aborted.promise;
    assert.ok(reason instanceof AbortError);
    assert.equal((reason as AbortError).code, "GGS_ERR_ABORTED");
  });

  it("exists in onRequest (after the plugin), preHandler, onSend, onResponse and the handler", async (t) => {
    const app = await build();
    t.after(() => app.close());
    const seen: string[] = [];
    const done = deferred();
    const record = (stage: string, s: Scope | null) => {
      seen.push(
        `${stage}:${s !== null && !s.isDisposed ? s.name.startsWith("request-") : "missing"}`,
      );
    };
    app.addHook("onRequest", async (request) => record("onRequest", request.scope));
    app.addHook("preHandler", async (request) => record("preHandler", request.scope));
    app.addHook("onSend", async (request) => record("onSend", request.scope));
    app.addHook("onResponse", async (request) => {
      seen.push(`onResponse:${request.scope.name.startsWith("request-")}`);
      done.resolve();
    });
    app.get("/", async (request) => {
      record("handler", request.scope);
      return "ok";
    });
    await app.inject("/");
    await done.promise;
    assert.deepEqual(seen, [
      "onRequest:true",
      "preHandler:true",
      "handler:true",
      "onSend:true",
      "onResponse:true",
    ]);
  });

  it("exists in the not-found handler", async (t) => {
    const app = await build();
    t.after(() => app.close());
    app.setNotFoundHandler(async (request, reply) => {
      const [, value] = await request.scope.task(() => "from the 404 scope");
      return reply.code(404).send({ value, name: request.scope.name.startsWith("request-") });
    });
    const response = await app.inject("/nope");
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { value: "from the 404 scope", name: true });
  });

  it("exists in the default 404 path (no custom handler) and is disposed", async (t) => {
    const app = await build();
    t.after(() => app.close());
    let s: Scope | undefined;
    app.addHook("onRequest", async (request) => void (s = request.scope));
    const response = await app.inject("/nope");
    assert.equal(response.statusCode, 404);
    await waitFor(() => s?.isDisposed === true, "404 scope disposed");
  });

  it("exists in the error handler", async (t) => {
    const app = await build();
    t.after(() => app.close());
    app.setErrorHandler(async (error, request, reply) => {
      const [, cleanup] = await request.scope.task(() => "cleaned up");
      return reply.code(418).send({ message: (error as Error).message, cleanup });
    });
    app.get("/", async () => {
      throw new Error("boom");
    });
    const response = await app.inject("/");
    assert.equal(response.statusCode, 418);
    assert.deepEqual(response.json(), { message: "boom", cleanup: "cleaned up" });
  });

  it("is the same scope in every hook of one request and distinct across requests", async (t) => {
    const app = await build();
    t.after(() => app.close());
    const scopes = new Set<Scope>();
    app.addHook("preHandler", async (request) => void scopes.add(request.scope));
    app.get("/", async (request) => {
      scopes.add(request.scope);
      return "ok";
    });
    await app.inject("/");
    assert.equal(scopes.size, 1);
    await app.inject("/");
    assert.equal(scopes.size, 2);
  });
});

describe("plugin: timeout", () => {
  it("a scope timeout fails pending tasks with TimeoutError and `throw err` answers 504", async (t) => {
    const app = await build({ timeout: 20 });
    t.after(() => app.close());
    let signalReason: unknown;
    app.get("/slow", async (request) => {
      const [err, value] = await request.scope.task(({ signal }) =>
        new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve("late"), 1000);
          signal.addEventListener("abort", () => {
            signalReason = signal.reason;
            clearTimeout(timer);
            resolve("aborted");
          });
        })
      );
      if (err) throw err;
      return value;
    });
    const response = await app.inject("/slow");
    assert.equal(response.statusCode, 504);
    const body = response.json();
    assert.equal(body.code, "GGS_ERR_TIMEOUT");
    assert.match(body.message, /exceeded its timeout of 20 ms/);
    assert.ok(signalReason instanceof TimeoutError);
  });

  it("a task started after the deadline resolves to the TimeoutError without running", async (t) => {
    const app = await build({ timeout: 10 });
    t.after(() => app.close());
    let ran = false;
    app.get("/", async (request) => {
      await sleep(30);
      const [err] = await request.scope.task(() => {
        ran = true;
      });
      return { name: err?.name, ran };
    });
    assert.deepEqual((await app.inject("/")).json(), { name: "TimeoutError", ran: false });
  });

  it("fast requests are not affected by the timeout and leave no timer behind", async (t) => {
    const before = activeTimers();
    const app = await build({ timeout: 10_000 });
    t.after(() => app.close());
    app.get("/", async (request) => (await request.scope.task(() => 1))[1]);
    for (let i = 0; i < 5; i++) assert.equal((await app.inject("/")).body, "1");
    await waitFor(() => app.scope.childCount === 0, "every request scope disposed");
    // Deno's sanitizer does not see timers left by node:test tests: count them.
    assert.equal(activeTimers(), before, "no deadline timer left behind");
  });
});

describe("plugin: Fastify's own handlerTimeout", () => {
  it("replies 503 by itself; the scope is cancelled at that moment with a TimeoutError", async (t) => {
    const app = await build({}, { handlerTimeout: 20 });
    t.after(() => app.close());
    const outcome = deferred<unknown>();
    app.get("/", async (request) => {
      const [err] = await request.scope.task(({ signal }) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve("finished"), 1000);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        })
      );
      outcome.resolve(err);
      return "too late";
    });
    const response = await app.inject("/");
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().code, "FST_ERR_HANDLER_TIMEOUT");
    const err = await outcome.promise;
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal((err as TimeoutError).timeout, 20);
    assert.equal(
      ((err as TimeoutError).cause as { code?: string }).code,
      "FST_ERR_HANDLER_TIMEOUT",
    );
  });
});

describe("plugin: per-route settings", () => {
  it("config.scope.timeout overrides the plugin's timeout", async (t) => {
    const app = await build({ timeout: 10_000 });
    t.after(() => app.close());
    app.get("/", { config: { scope: { timeout: 15 } } }, async (request) => {
      const [err] = await request.scope.task(({ signal }) =>
        new Promise((_, reject) => {
          // The scope's timer is unref'd: this one keeps the event loop alive.
          const keepAlive = setTimeout(() => reject(new Error("no timeout")), 1000);
          signal.addEventListener("abort", () => {
            clearTimeout(keepAlive);
            reject(signal.reason);
          });
        })
      );
      if (err) throw err;
      return "never";
    });
    const response = await app.inject("/");
    assert.equal(response.statusCode, 504);
  });

  it("config.scope.timeout: false removes the deadline on that route only", async (t) => {
    const app = await build({ timeout: 10 });
    t.after(() => app.close());
    const handler = async (request: { scope: Scope }) => {
      const [err, value] = await request.scope.task(() => sleep(30).then(() => "done"));
      if (err) throw err;
      return value;
    };
    app.get("/stream", { config: { scope: { timeout: false } } }, handler);
    app.get("/normal", handler);
    assert.equal((await app.inject("/stream")).body, "done");
    assert.equal((await app.inject("/normal")).statusCode, 504);
  });

  it("config.scope.circuitBreaker: false bypasses the shared breaker", async (t) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    const app = await build({ circuitBreaker: breaker });
    t.after(() => app.close());
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error("down");
    };
    app.get("/guarded", async (request) => (await request.scope.task(failing))[0]?.name);
    app.get("/free", { config: { scope: { circuitBreaker: false } } }, async (request) => {
      return (await request.scope.task(failing))[0]?.name;
    });
    assert.equal((await app.inject("/guarded")).body, "UnknownError");
    assert.equal(breaker.state, "open");
    assert.equal((await app.inject("/guarded")).body, "CircuitOpenError");
    assert.equal(calls, 1);
    assert.equal((await app.inject("/free")).body, "UnknownError");
    assert.equal((await app.inject("/free")).body, "UnknownError");
    assert.equal(calls, 3);
  });

  it("config.scope.circuitBreaker: an instance replaces the plugin's breaker on that route", async (t) => {
    const shared = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    const own = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
    const app = await build({ circuitBreaker: shared });
    t.after(() => app.close());
    app.get("/", { config: { scope: { circuitBreaker: own } } }, async (request) => {
      return (await request.scope.task(() => Promise.reject(new Error("down"))))[0]?.name;
    });
    assert.equal((await app.inject("/")).body, "UnknownError");
    assert.equal(own.state, "closed");
    assert.equal(shared.state, "closed");
    assert.equal((await app.inject("/")).body, "UnknownError");
    assert.equal(own.state, "open");
    assert.equal(shared.state, "closed");
  });

  it("routes declared before the plugin still get their settings (validated on first use)", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    app.get("/early", { config: { scope: { timeout: 10 } } }, async (request) => {
      const [err] = await request.scope.task(() => sleep(40));
      if (err) throw err;
      return "late";
    });
    app.get("/early-bad", { config: { scope: { timeout: -1 } } }, async () => "unreachable");
    await app.register(fastifyGoGoScope);
    assert.equal((await app.inject("/early")).statusCode, 504);
    const bad = await app.inject("/early-bad");
    assert.equal(bad.statusCode, 500);
    assert.match(
      bad.json().message,
      /"config\.scope\.timeout" must be a finite number of milliseconds > 0 or false/,
    );
    assert.equal((await app.inject("/early-bad")).statusCode, 500);
  });
});

describe("plugin: concurrency", () => {
  it("limits the tasks running at once in one request scope", async (t) => {
    const app = await build({ concurrency: 2 });
    t.after(() => app.close());
    app.get("/", async (request) => {
      let running = 0;
      let peak = 0;
      const work = async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(5);
        running--;
      };
      await Promise.all([1, 2, 3, 4, 5].map(() => request.scope.task(work)));
      return { peak };
    });
    assert.deepEqual((await app.inject("/")).json(), { peak: 2 });
  });

  it("does not limit tasks across requests", async (t) => {
    const app = await build({ concurrency: 1 });
    t.after(() => app.close());
    let running = 0;
    let peak = 0;
    app.get("/", async (request) => {
      await request.scope.task(async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(10);
        running--;
      });
      return "ok";
    });
    await Promise.all([app.inject("/"), app.inject("/"), app.inject("/")]);
    assert.equal(peak, 3);
  });
});

describe("plugin: one circuit breaker shared by every request", () => {
  for (const kind of ["instance", "options"] as const) {
    it(`opens after the threshold, rejects fast, lets a trial through and closes (${kind})`, async (t) => {
      const breakerOptions = { failureThreshold: 3, resetTimeout: 30 };
      const instance = new CircuitBreaker(breakerOptions);
      const app = await build({ circuitBreaker: kind === "instance" ? instance : breakerOptions });
      t.after(() => app.close());
      let calls = 0;
      let healthy = false;
      app.get("/dep", async (request) => {
        const [err, value] = await request.scope.task(() => {
          calls++;
          if (!healthy) throw new Error("dependency down");
          return "fine";
        });
        if (err) throw err;
        return value;
      });
      for (let i = 0; i < 3; i++) {
        const response = await app.inject("/dep");
        assert.equal(response.statusCode, 500);
        assert.equal(response.json().message, "dependency down");
      }
      assert.equal(calls, 3);
      if (kind === "instance") assert.equal(instance.state, "open");
      const rejected = await app.inject("/dep");
      assert.equal(rejected.statusCode, 503);
      assert.equal(rejected.json().code, "GGS_ERR_CIRCUIT_OPEN");
      assert.equal(calls, 3, "an open breaker does not call the dependency");
      await sleep(45);
      healthy = true;
      const trial = await app.inject("/dep");
      assert.equal(trial.statusCode, 200);
      assert.equal(trial.body, "fine");
      assert.equal(calls, 4);
      assert.equal((await app.inject("/dep")).body, "fine");
      if (kind === "instance") assert.equal(instance.state, "closed");
    });
  }

  it("guards tasks of the root scope too", async (t) => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    const app = await build({ circuitBreaker: breaker });
    t.after(() => app.close());
    await app.ready();
    await app.scope.task(() => Promise.reject(new Error("down")));
    const [err] = await app.scope.task(() => "never");
    assert.ok(err instanceof CircuitOpenError);
  });
});

describe("plugin: errors while disposing", () => {
  it("a throwing cleanup is logged with request.log.error, the response is unaffected", async (t) => {
    const logs = logCollector();
    const app = await build({}, { logger: { level: "error", stream: logs.stream } });
    t.after(() => app.close());
    app.get("/", async (request) => {
      request.scope.onDispose(() => {
        throw new Error("cleanup failed");
      });
      return "ok";
    });
    const response = await app.inject("/");
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, "ok");
    await waitFor(() => logs.records.length > 0, "an error logged");
    const [record] = logs.records;
    assert.equal(record?.msg, "go-go-scope: disposing the request scope failed");
    assert.equal(record?.err?.message, "cleanup failed");
    assert.equal(typeof record?.reqId, "string", "logged with the request's logger");
  });
});

describe("plugin: shutdown", () => {
  it("close() disposes the root and aborts background tasks", async () => {
    const app = await build();
    await app.ready();
    const started = deferred();
    const task = app.scope.task(({ signal }) =>
      new Promise<string>((resolve) => {
        started.resolve();
        signal.addEventListener("abort", () => resolve("stopped"));
      })
    );
    await started.promise;
    await app.close();
    assert.equal(app.scope.isDisposed, true);
    const [err] = await task;
    assert.ok(err instanceof AbortError);
  });

  it("close() during an inject request cancels its scope with ServerClosingError and disposes it", async () => {
    const app = await build();
    const entered = deferred();
    let requestScope: Scope | undefined;
    let after = "not reached";
    app.get("/", async (request) => {
      requestScope = request.scope;
      entered.resolve();
      const [err] = await request.scope.task(({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
      );
      after = err ? `aborted: ${err.name}` : "completed";
      if (err) throw err;
      return "never";
    });
    const pending = app.inject("/");
    await entered.promise;
    await app.close();
    assert.equal(requestScope?.isDisposed, true);
    const response = await pending;
    assert.equal(after, "aborted: ServerClosingError");
    assert.equal(response.statusCode, 503);
  });

  it("a failing root cleanup is logged and close() still resolves", async () => {
    const logs = logCollector();
    const app = await build({}, { logger: { level: "error", stream: logs.stream } });
    await app.ready();
    app.scope.onDispose(() => {
      throw new Error("root cleanup failed");
    });
    await app.close();
    const record = logs.records.find((r) =>
      r.msg === "go-go-scope: disposing the root scope failed"
    );
    assert.equal(record?.err?.message, "root cleanup failed");
  });
});
