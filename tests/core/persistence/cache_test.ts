// InMemoryCache / createCache: TTL, LRU eviction at maxSize, stats, keys patterns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCache, InMemoryCache } from "../../../src/core/mod.ts";
import { sleep } from "../_helpers.ts";

test("cache: set then get returns the value; a missing key is null", async () => {
  const c = createCache();
  await c.set("a", { n: 1 });
  assert.deepEqual(await c.get("a"), { n: 1 });
  assert.equal(await c.get("b"), null);
  assert.equal(await c.has("a"), true);
  await c.delete("a");
  assert.equal(await c.has("a"), false);
});

test("cache: an entry expires after its ttl", async () => {
  const c = new InMemoryCache();
  await c.set("a", 1, 20);
  await c.set("b", 2);
  assert.equal(await c.get("a"), 1);
  await sleep(30);
  assert.equal(await c.get("a"), null);
  assert.equal(await c.has("a"), false);
  assert.equal(await c.get("b"), 2);
});

test("cache: at maxSize the least recently used entry is evicted", async () => {
  const c = new InMemoryCache({ maxSize: 2 });
  await c.set("a", 1);
  await c.set("b", 2);
  await c.get("a");
  await c.set("c", 3);
  assert.deepEqual(await c.keys(), ["a", "c"]);
  await c.set("a", 10); // overwriting does not evict
  assert.equal(c.size, 2);
  assert.equal(await c.get("a"), 10);
});

test("cache: stats count hits and misses; clear resets them", async () => {
  const c = createCache();
  await c.set("a", 1);
  await c.get("a");
  await c.get("x");
  assert.deepEqual(c.stats(), { hits: 1, misses: 1, size: 1, hitRatio: 0.5 });
  await c.clear();
  assert.deepEqual(c.stats(), { hits: 0, misses: 0, size: 0, hitRatio: 0 });
});

test("cache: keys(pattern) matches * globs and nothing else", async () => {
  const c = createCache();
  for (const k of ["user:1", "user:2", "order:1", "user.x"]) await c.set(k, k);
  assert.deepEqual(await c.keys("user:*"), ["user:1", "user:2"]);
  assert.deepEqual(await c.keys("user.x"), ["user.x"]);
});

test("cache: prune removes expired entries and says how many", async () => {
  const c = createCache();
  await c.set("a", 1, 5);
  await c.set("b", 1);
  await sleep(15);
  assert.equal(c.prune(), 1);
  assert.equal(c.size, 1);
});

test("cache: bad input throws, naming the option", async () => {
  assert.throws(() => createCache({ maxSize: 0 }), /"maxSize" must be an integer >= 1, received 0/);
  assert.throws(() => createCache({ size: 3 } as never), /unknown option "size"/);
  const c = createCache();
  assert.throws(
    () => c.set("a", 1, -5),
    /"ttl" must be a finite number of milliseconds > 0, received -5/,
  );
});
