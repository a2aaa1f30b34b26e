// The plugin with a persistence adapter written for go-go-scope: connect() at
// registration, the plugin's breaker shared under its name, and adapters that
// cannot do what the options need refused at registration, naming the method.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { CircuitBreaker, InMemoryLockProvider } from "../../src/core/mod.ts";
import { FakeGoGoScopeAdapter } from "../core/persistence/_fake_adapter.ts";

const P = "fastifyGoGoScope";

describe("fastifyGoGoScope({ persistence }) with an adapter written for go-go-scope", () => {
  it("connects the adapter at registration, before the first request", async () => {
    const adapter = new FakeGoGoScopeAdapter();
    const app = Fastify();
    await app.register(fastifyGoGoScope, { persistence: adapter });
    assert.equal(adapter.connects, 1);
    assert.equal(adapter.connected, true);
    app.get("/", async (request) => {
      const guard = await request.scope.acquireLock({ key: "report" }).acquire({ timeout: 100 });
      await guard.release();
      return "ok";
    });
    assert.equal((await app.inject("/")).body, "ok");
    assert.equal(adapter.connects, 1);
    await app.close();
  });

  it("fails registration when the adapter cannot connect", async () => {
    const adapter = new FakeGoGoScopeAdapter();
    adapter.failConnects = 1;
    const app = Fastify();
    app.register(fastifyGoGoScope, { persistence: adapter });
    const err = await app.ready().then(() => undefined, (e: unknown) => e) as
      | (Error & { code?: string; statusCode?: number })
      | undefined;
    assert.ok(err instanceof Error);
    assert.equal(
      err.message,
      `${P}: "persistence" could not connect (its connect() failed): connect ECONNREFUSED 127.0.0.1:3306`,
    );
    assert.equal(err.code, "GGS_ERR_PERSISTENCE_CONNECT");
    assert.equal(err.statusCode, 503);
    await app.close();
  });

  it("shares the plugin's breaker under the plugin's name when given as options without a key", async () => {
    const adapter = new FakeGoGoScopeAdapter();
    const app = Fastify();
    await app.register(fastifyGoGoScope, {
      name: "orders-api",
      persistence: adapter,
      circuitBreaker: { failureThreshold: 1 },
    });
    assert.equal(app.scope.circuitBreaker?.key, "orders-api");
    app.get("/", async (request) => {
      const [err] = await request.scope.task(() => Promise.reject(new Error("down")));
      return { failed: err !== undefined };
    });
    await app.inject("/");
    const deadline = performance.now() + 1_000;
    while (adapter.states.get("orders-api")?.state !== "open" && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(adapter.states.get("orders-api")?.state, "open", "recorded under the name");
    await app.close();
  });

  it("keeps a breaker in the process when persistence cannot hold breaker state", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, {
      persistence: { lock: new InMemoryLockProvider() },
      circuitBreaker: { failureThreshold: 1 },
    });
    assert.equal(app.scope.circuitBreaker?.key, undefined);
    await app.close();
  });

  it("refuses at registration what would silently not be shared or cannot work", async (t) => {
    const lockOnly = {
      acquire: () => Promise.resolve(null),
      extend: () => Promise.resolve(false),
      forceRelease: () => Promise.resolve(),
    };
    const cases: { name: string; options: Record<string, unknown>; message: RegExp }[] = [
      {
        name: "a CircuitBreaker instance without a key",
        options: {
          persistence: new FakeGoGoScopeAdapter(),
          circuitBreaker: new CircuitBreaker({ failureThreshold: 2 }),
        },
        message:
          /^fastifyGoGoScope: "circuitBreaker" must have a key when "persistence" shares circuit-breaker state, received a CircuitBreaker without one \(give it one, new CircuitBreaker\({ key: "payments" }\), or pass its options and the plugin's name becomes its key\)$/,
      },
      {
        name: "a keyed breaker over persistence without breaker methods",
        options: {
          persistence: lockOnly,
          circuitBreaker: new CircuitBreaker({ key: "payments" }),
        },
        message:
          /^Cannot create scope: "persistence\.circuitBreaker" must have the method getState \(the keyed circuit breaker "payments" shares its state through it\), received an object without it$/,
      },
      {
        name: "an adapter whose lock provider lacks a method",
        options: { persistence: { lock: { acquire: lockOnly.acquire, extend: lockOnly.extend } } },
        message:
          /^Cannot create scope: "persistence\.lock" must have the method forceRelease \(a lock provider has acquire, extend, forceRelease\), received an object without it$/,
      },
    ];
    for (const c of cases) {
      await t.test(c.name, async () => {
        const app = Fastify();
        app.register(fastifyGoGoScope, c.options);
        const err = await app.ready().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof TypeError, String(err));
        assert.match(err.message, c.message);
        assert.equal((err as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
        await app.close();
      });
    }
  });
});
