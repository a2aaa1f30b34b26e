import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { scope } from "../../src/core/mod.ts";
import { RedisAdapter } from "../../src/redis/mod.ts";
import { closeClients, type RedisServer, redisSkip, startRedis } from "./_redis_server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("scope({ persistence: RedisAdapter })", { skip: redisSkip }, () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  let n = 0;
  /** Two adapters on one prefix: two processes' worth of state over one Redis. */
  const pair = () => {
    const prefix = `s${++n}:`;
    return [0, 1].map(() => {
      const c = server.client();
      clients.push(c);
      return new RedisAdapter(c, { keyPrefix: prefix });
    }) as [RedisAdapter, RedisAdapter];
  };

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await closeClients(clients);
    await server.stop();
  });

  it("keyed locks of two scopes on two clients exclude each other, and release wakes the waiter", async () => {
    const [a, b] = pair();
    await using one = scope({ persistence: a });
    await using two = scope({ persistence: b });
    const order: string[] = [];
    const guard = await one.acquireLock({ key: "report", ttl: 2_000 }).acquire();
    order.push("one in");
    const waiting = two.acquireLock({ key: "report", ttl: 2_000 }).acquire({ timeout: 2_000 })
      .then(async (g) => {
        order.push("two in");
        await g.release();
      });
    await sleep(60);
    order.push("one out");
    await guard.release();
    await waiting;
    assert.deepEqual(order, ["one in", "one out", "two in"]);
    await Promise.all([a[Symbol.asyncDispose](), b[Symbol.asyncDispose]()]);
  });

  it("an idempotent task runs once across two clients and the second gets the stored value", async () => {
    const [a, b] = pair();
    await using one = scope({ persistence: a });
    await using two = scope({ persistence: b });
    let runs = 0;
    const charge = () => {
      runs++;
      return { charged: 42 };
    };
    const first = await one.task(charge, { idempotency: { key: "order-7", ttl: 5_000 } });
    const second = await two.task(charge, { idempotency: { key: "order-7", ttl: 5_000 } });
    assert.deepEqual(first, [undefined, { charged: 42 }]);
    assert.deepEqual(second, [undefined, { charged: 42 }]);
    assert.equal(runs, 1);
  });
});
