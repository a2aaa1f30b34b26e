// The plugin with a RedisAdapter: a Redis that goes away mid-run does not take
// the service down, is logged once per outage, and app.close() never hangs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { CircuitBreaker, fastifyGoGoScope } from "../../mod.ts";
import { RedisAdapter } from "../../src/redis/mod.ts";
import { type RedisServer, redisSkip, startRedis } from "./_redis_server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const log = (level: string) => (_obj: unknown, msg?: string) =>
    lines.push({ level, msg: msg ?? "" });
  const logger = {
    level: "info",
    lines,
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    debug: log("debug"),
    fatal: log("fatal"),
    trace: log("trace"),
    silent: () => {},
    child() {
      return logger;
    },
  };
  return logger;
}

describe("fastifyGoGoScope({ persistence: RedisAdapter })", { skip: redisSkip }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  it("keeps answering while Redis is down, logs the outage once, recovers, and closes without hanging", async () => {
    const client = server.client();
    const adapter = new RedisAdapter(client, { keyPrefix: "outage:", commandTimeout: 100 });
    const logger = capturingLogger();
    const app = Fastify({ loggerInstance: logger as never });
    await app.register(fastifyGoGoScope, {
      persistence: adapter,
      circuitBreaker: new CircuitBreaker({ key: "dep", failureThreshold: 100 }),
    });
    let fail = false;
    app.get("/", async (request) => {
      const [err] = await request.scope.task(() => {
        if (fail) throw new Error("dependency failed");
        return "ok";
      });
      return { ok: !err };
    });
    await app.ready();
    assert.equal((await app.inject("/")).json().ok, true);

    await server.stop();
    fail = true; // failures are recorded in Redis: each call now fails to reach it
    for (let i = 0; i < 5; i++) {
      const res = await app.inject("/");
      assert.equal(res.statusCode, 200, "the service keeps answering");
    }
    await sleep(250); // the Redis calls time out (commandTimeout 100 ms)
    const outage = logger.lines.filter((l) =>
      l.msg.includes("shared circuit breaker state unavailable")
    );
    assert.equal(outage.length, 1, "one log line per outage");
    assert.equal(outage[0]!.level, "warn");

    await server.start();
    await sleep(300); // ioredis reconnects by itself
    for (let i = 0; i < 20; i++) {
      await app.inject("/");
      if (logger.lines.some((l) => l.msg.includes("reachable again"))) break;
      await sleep(20);
    }
    assert.ok(logger.lines.some((l) => l.msg.includes("reachable again")), "recovery is logged");
    assert.equal(app.scope.childCount, 0, "no request scope left");

    const started = performance.now();
    await app.close();
    assert.ok(performance.now() - started < 2_000, "app.close() does not hang");
    assert.equal(client.status, "ready", "the user's client stays open");
    await client.quit();
  });
});
