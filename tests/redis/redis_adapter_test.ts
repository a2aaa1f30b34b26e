import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { RedisAdapter, RedisUnavailableError } from "../../src/redis/mod.ts";
import { closeClients, RedisServer, redisSkip, startRedis } from "./_redis_server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RedisAdapter against a real redis-server", { skip: redisSkip }, () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const client = () => {
    const c = server.client();
    clients.push(c);
    return c;
  };
  let n = 0;
  /** An adapter on a fresh key prefix, so tests never see each other's keys. */
  const adapter = (options: { keyPrefix?: string; commandTimeout?: number } = {}) =>
    new RedisAdapter(client(), { keyPrefix: `t${++n}:`, ...options });

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await closeClients(clients);
    await server.stop();
  });

  it("lock: 50 concurrent contenders in 5 processes' worth of clients, one holder at a time", async () => {
    const prefix = `t${++n}:`;
    const adapters = Array.from(
      { length: 5 },
      () => new RedisAdapter(client(), { keyPrefix: prefix }),
    );
    let holders = 0;
    let maxHolders = 0;
    let done = 0;
    await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const a = adapters[i % adapters.length]!;
      for (;;) {
        const handle = await a.lock.acquire("job", 5_000, `owner-${i}`);
        if (handle === null) {
          await sleep(2);
          continue;
        }
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        await sleep(1);
        holders--;
        await handle.release();
        done++;
        return;
      }
    }));
    assert.equal(done, 50);
    assert.equal(maxHolders, 1);
    await Promise.all(adapters.map((a) => a[Symbol.asyncDispose]()));
  });

  it("lock: expires after its ttl and can be extended by its owner only", async () => {
    const a = adapter();
    const first = await a.acquire("k", 300, "a");
    assert.ok(first);
    assert.equal(await a.acquire("k", 300, "b"), null);
    assert.equal(await a.extend("k", 400, "b"), false, "another owner cannot extend");
    assert.equal(await a.lock.release("k", "b"), false, "another owner cannot release");
    assert.equal(await first.extend(2_000), true);
    await sleep(400);
    assert.equal(await a.lock.isLocked("k"), true, "extended past its first ttl");
    assert.equal(await first.isValid(), true);
    await a.forceRelease("k");
    assert.equal(await first.isValid(), false);
    const short = await a.acquire("short", 30, "a");
    assert.ok(short);
    await sleep(80);
    assert.equal(await a.lock.isLocked("short"), false, "expired");
    assert.ok(await a.acquire("short", 30, "b"), "free again after expiry");
  });

  it("lock: shared holders coexist and keep an exclusive one out", async () => {
    const a = adapter();
    const r1 = await a.acquire("rw", 1_000, "r1", "shared");
    const r2 = await a.acquire("rw", 1_000, "r2", "shared");
    assert.ok(r1 && r2);
    assert.equal(await a.acquire("rw", 1_000, "w", "exclusive"), null);
    await r1.release();
    assert.equal(await a.acquire("rw", 1_000, "w", "exclusive"), null, "one reader left");
    await r2.release();
    const w = await a.acquire("rw", 1_000, "w", "exclusive");
    assert.ok(w);
    assert.equal(await a.acquire("rw", 1_000, "r3", "shared"), null, "writer keeps readers out");
  });

  it("lock: onRelease hears a release made through another client", async () => {
    const prefix = `t${++n}:`;
    const a = new RedisAdapter(client(), { keyPrefix: prefix });
    const b = new RedisAdapter(client(), { keyPrefix: prefix });
    const handle = await a.acquire("k", 1_000, "a");
    assert.ok(handle);
    let heard = 0;
    const stop = b.lock.onRelease("k", () => heard++);
    await sleep(50); // the subscription is in place
    await handle.release();
    for (let i = 0; i < 50 && heard === 0; i++) await sleep(5);
    assert.equal(heard, 1);
    stop();
    await b[Symbol.asyncDispose]();
  });

  it("breaker state: concurrent failures from three clients all count, and the state opens at the threshold", async () => {
    const prefix = `t${++n}:`;
    const adapters = [0, 1, 2].map(() => new RedisAdapter(client(), { keyPrefix: prefix }));
    const counts = await Promise.all(
      Array.from({ length: 90 }, (_, i) => adapters[i % 3]!.recordFailure("payments", 50)),
    );
    assert.deepEqual(
      [...counts].sort((x, y) => x - y),
      Array.from({ length: 90 }, (_, i) => i + 1),
    );
    const state = await adapters[0]!.getState("payments");
    assert.equal(state?.state, "open");
    assert.equal(state?.failureCount, 90);
    await adapters[1]!.recordSuccess("payments");
    assert.deepEqual(
      { ...(await adapters[2]!.getState("payments")), lastFailureTime: 0, lastSuccessTime: 0 },
      { state: "closed", failureCount: 0, lastFailureTime: 0, lastSuccessTime: 0 },
    );
  });

  it("breaker state: subscribers in other clients hear every change", async () => {
    const prefix = `t${++n}:`;
    const a = new RedisAdapter(client(), { keyPrefix: prefix });
    const b = new RedisAdapter(client(), { keyPrefix: prefix });
    const heard: string[] = [];
    const stop = b.subscribe("svc", (s) => heard.push(`${s.state}/${s.failureCount}`));
    await sleep(50);
    await a.recordFailure("svc", 2);
    await a.recordFailure("svc", 2);
    await a.recordSuccess("svc");
    await a.setState("svc", { state: "half-open", failureCount: 0 });
    for (let i = 0; i < 50 && heard.length < 4; i++) await sleep(5);
    assert.deepEqual(heard, ["closed/1", "open/2", "closed/0", "half-open/0"]);
    stop();
    await b[Symbol.asyncDispose]();
  });

  it("breaker state: exactly one of ten gets the half-open trial token", async () => {
    const a = adapter();
    const got = await Promise.all(
      Array.from({ length: 10 }, () => a.circuitBreaker.acquireTrial("svc", 1_000)),
    );
    assert.equal(got.filter(Boolean).length, 1);
  });

  it("idempotency, cache and checkpoints round-trip with their ttl", async () => {
    const a = adapter();
    await a.idempotency.set("order:1", { charged: true }, 60);
    assert.deepEqual((await a.idempotency.get("order:1"))?.value, { charged: true });
    await a.set("user:1", { name: "Ada" });
    await a.set("user:2", [1, 2], 40);
    assert.deepEqual(await a.get("user:1"), { name: "Ada" });
    assert.equal(await a.has("user:2"), true);
    assert.deepEqual((await a.keys("user:*")).sort(), ["user:1", "user:2"]);
    await sleep(100);
    assert.equal(await a.idempotency.get("order:1"), null, "idempotency entry expired");
    assert.equal(await a.get("user:2"), null, "cache entry expired");
    await a.clear();
    assert.deepEqual(await a.keys(), []);
    for (let sequence = 1; sequence <= 3; sequence++) {
      await a.checkpoint.save({
        id: `c${sequence}`,
        taskId: "import",
        sequence,
        timestamp: 0,
        progress: sequence * 10,
        data: sequence,
      });
    }
    assert.equal((await a.checkpoint.loadLatest("import"))?.data, 3);
    assert.equal((await a.checkpoint.load("c2"))?.progress, 20);
    await a.checkpoint.cleanup("import", 1);
    assert.deepEqual((await a.checkpoint.list("import")).map((c) => c.id), ["c3"]);
    assert.equal(await a.checkpoint.load("c1"), undefined);
    await a.checkpoint.deleteAll("import");
    assert.deepEqual(await a.checkpoint.list("import"), []);
  });

  it("key prefixes isolate two apps on one Redis", async () => {
    const one = adapter({ keyPrefix: "app-one:" });
    const two = adapter({ keyPrefix: "app-two:" });
    assert.ok(await one.acquire("job", 1_000, "a"));
    assert.ok(await two.acquire("job", 1_000, "b"), "the other app's lock is another lock");
    await one.set("k", 1);
    assert.equal(await two.get("k"), null);
    await one.recordFailure("svc", 1);
    assert.equal(await two.getState("svc"), null);
    await one.forceRelease("job");
    await two.forceRelease("job");
    await one.clear();
  });

  it("a stopped Redis fails every call within commandTimeout, and the adapter recovers when it returns", async () => {
    const own = new RedisServer(server.port + 0);
    // A server of its own, so stopping it does not disturb the other tests.
    const other = await startRedis();
    const c = other.client();
    clients.push(c);
    const a = new RedisAdapter(c, { commandTimeout: 100 });
    assert.ok(await a.acquire("k", 1_000, "a"));
    await other.stop();
    const started = performance.now();
    const results = await Promise.allSettled([
      a.acquire("k2", 1_000, "a"),
      a.recordFailure("svc", 3),
      a.get("x"),
      a.idempotency.get("y"),
    ]);
    const elapsed = performance.now() - started;
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok((r as PromiseRejectedResult).reason instanceof RedisUnavailableError);
    }
    assert.ok(elapsed < 1_000, `calls gave up in ${elapsed.toFixed(0)} ms`);
    await other.start();
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await a.set("x", 1).then(() => true, () => false);
      if (!ok) await sleep(20);
    }
    assert.ok(ok, "the adapter works again once Redis is back");
    assert.equal(await a.get("x"), 1);
    void own;
    await c.quit();
    clients.splice(clients.indexOf(c), 1);
    await other.stop();
  });

  it("disposing the adapter closes its subscriber but not the client; disconnect() closes both", async () => {
    const c = server.client();
    const a = new RedisAdapter(c, { keyPrefix: `t${++n}:` });
    const stop = a.subscribe("svc", () => {});
    await sleep(30);
    await a[Symbol.asyncDispose]();
    stop();
    assert.equal(c.status, "ready");
    await a.set("still", "open");
    await a.disconnect();
    for (let i = 0; i < 50 && (c.status as string) !== "end"; i++) await sleep(5);
    assert.equal(c.status as string, "end");
  });
});

describe("RedisAdapter: bad input", () => {
  const fake = {
    call() {},
    subscribe() {},
    duplicate() {},
    quit() {},
    on() {},
  } as unknown as ConstructorParameters<typeof RedisAdapter>[0];
  const table: [string, () => unknown, RegExp][] = [
    [
      "client missing",
      () => new RedisAdapter(undefined as never),
      /"client" must be an ioredis client.*received undefined/,
    ],
    [
      "client not a client",
      () => new RedisAdapter({} as never),
      /"client" must be an ioredis client.*received an object/,
    ],
    ["unknown option", () => new RedisAdapter(fake, { keyprefix: "x" } as never), /keyprefix/],
    [
      "keyPrefix not a string",
      () => new RedisAdapter(fake, { keyPrefix: 1 as never }),
      /"keyPrefix" must be a string, received 1/,
    ],
    [
      "commandTimeout 0",
      () => new RedisAdapter(fake, { commandTimeout: 0 }),
      /"commandTimeout" must be .*received 0/,
    ],
  ];
  for (const [name, make, message] of table) {
    it(`rejects ${name}`, () => {
      assert.throws(make, (e: Error) => e instanceof TypeError || e instanceof RangeError);
      assert.throws(make, message);
    });
  }
});
