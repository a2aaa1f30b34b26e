// TokenBucket: capacity, refill, tryConsume, acquire waits (released on
// dispose), acquireWithTimeout, reset, getState, a shared cache, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope, TokenBucket } from "../../../src/core/mod.ts";
import { dispose } from "../_helpers.ts";

test("tokenBucket: a full bucket gives capacity tokens, then refuses", async () => {
  await using s = scope();
  const b = s.tokenBucket({ capacity: 3, refillRate: 0.001 });
  assert.deepEqual([await b.tryConsume(), await b.tryConsume(2)], [true, true]);
  assert.equal(await b.tryConsume(), false);
  assert.ok((await b.getTokens()) < 1);
});

test("tokenBucket: tokens refill at refillRate per second, up to capacity", async () => {
  await using s = scope();
  const b = s.tokenBucket({ capacity: 2, refillRate: 200, initialTokens: 0 });
  assert.equal(await b.tryConsume(), false);
  await s.delay(30); // ~6 tokens' worth, capped at 2
  assert.equal(await b.getTokens(), 2);
  assert.deepEqual(await b.getState(), { tokens: 2, capacity: 2, refillRate: 200 });
});

test("tokenBucket: acquire waits for tokens, then runs fn and returns its value", async () => {
  await using s = scope();
  const b = s.tokenBucket({ capacity: 1, refillRate: 100 });
  const order: number[] = [];
  // The clock starts before the first acquire takes the only token: the
  // second can run only once 10 ms have refilled it after that take. Started
  // after the first acquire instead, a pause on a loaded machine between the
  // take and the start would hide part of the wait (CI saw that on Node 22).
  const start = performance.now();
  await b.acquire(1, () => order.push(1));
  const v = await b.acquire(1, async () => (order.push(2), "second"));
  assert.equal(v, "second");
  assert.deepEqual(order, [1, 2]);
  // 10 ms of refill, less the 1 ms granularity of the Date.now() it counts in.
  const waited = performance.now() - start;
  assert.ok(waited >= 8, `the second acquire ran after ${waited} ms, before its token refilled`);
});

test("tokenBucket: disposing the scope rejects waiting acquires and clears their timers", async () => {
  const s = scope();
  const b = s.tokenBucket({ capacity: 1, refillRate: 0.001, initialTokens: 0 });
  let ran = false;
  const waiting = b.acquire(1, () => (ran = true));
  await new Promise((r) => setTimeout(r, 1));
  await dispose(s);
  const err = await waiting.catch((e) => e);
  assert.ok(err instanceof AbortError);
  assert.equal(ran, false);
});

test("tokenBucket: acquireWithTimeout gives up with undefined when tokens come too late", async () => {
  await using s = scope();
  const b = s.tokenBucket({ capacity: 1, refillRate: 1, initialTokens: 0 });
  let ran = false;
  assert.equal(await b.acquireWithTimeout(1, 10, () => (ran = true)), undefined);
  assert.equal(ran, false);
  const fast = s.tokenBucket({ capacity: 1, refillRate: 200, initialTokens: 0 });
  assert.equal(await fast.acquireWithTimeout(1, 200, () => "ok"), "ok");
});

test("tokenBucket: reset fills the bucket", async () => {
  await using s = scope();
  const b = s.tokenBucket({ capacity: 2, refillRate: 0.001 });
  await b.tryConsume(2);
  await b.reset();
  assert.equal(await b.tryConsume(2), true);
});

test("tokenBucket: two buckets on one cache and key share their tokens", async () => {
  const store = new Map<string, unknown>();
  const cache = {
    get: (k: string) => Promise.resolve(store.get(k)),
    set: (k: string, v: unknown) => Promise.resolve(void store.set(k, v)),
  };
  const a = new TokenBucket({ capacity: 2, refillRate: 0.001, cache, key: "api" });
  const b = new TokenBucket({ capacity: 2, refillRate: 0.001, cache, key: "api" });
  assert.equal(await a.tryConsume(), true);
  assert.equal(await b.tryConsume(), true);
  assert.equal(await a.tryConsume(), false);
  assert.ok(store.has("token-bucket:api"));
});

test("tokenBucket: bad options and token counts throw naming the option", async () => {
  await using s = scope();
  assert.throws(() => s.tokenBucket({ capacity: 0, refillRate: 1 }), {
    name: "RangeError",
    message: 'Cannot create token bucket: "capacity" must be a finite number > 0, received 0',
  });
  assert.throws(() => s.tokenBucket({ capacity: 1 } as never), { message: /"refillRate"/ });
  assert.throws(() => s.tokenBucket({ capacity: 1, refillRate: 1, initialTokens: 2 }), {
    name: "RangeError",
    message: /"initialTokens" must be a number from 0 to capacity \(1\), received 2/,
  });
  assert.throws(() => s.tokenBucket({ capacity: 1, refillRate: 1, rate: 1 } as never), {
    message: /unknown option "rate"/,
  });
  assert.throws(
    () => s.tokenBucket({ capacity: 1, refillRate: 1, cache: { get() {}, set() {} } as never }),
    { message: /"key" must be a string when cache is set/ },
  );
  // The key is checked before the cache's shape, and the message ends in go-go-scope's words.
  assert.throws(() => s.tokenBucket({ capacity: 10, refillRate: 1, cache: {} as never }), {
    name: "TypeError",
    message:
      'Cannot create token bucket: "key" must be a string when cache is set, received undefined (key is required when using cache)',
  });
  const b = s.tokenBucket({ capacity: 2, refillRate: 1 });
  await assert.rejects(b.tryConsume(3), { name: "RangeError", message: /"tokens".*received 3/ });
  await assert.rejects(b.acquire(1, "x" as never), { message: /"fn" must be a function/ });
});
