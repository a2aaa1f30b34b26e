// The in-memory memo store behind the task option `memo`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InMemoryMemoStore } from "../../../src/core/mod.ts";
import { sleep } from "../_helpers.ts";

test("memo store: get returns what set stored until the ttl passes, then forgets it", async () => {
  const store = new InMemoryMemoStore();
  const result = [undefined, { id: 1 }] as const;
  store.set("k", result, 20);
  assert.equal(store.get("k"), result);
  assert.equal(store.get("other"), undefined);
  await sleep(30);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.size, 0, "an expired entry is dropped when read");
});

test("memo store: delete forgets a key; symbol keys work", () => {
  const store = new InMemoryMemoStore();
  const key = Symbol("k");
  store.set(key, [undefined, 1], 1000);
  assert.deepEqual(store.get(key), [undefined, 1]);
  store.delete(key);
  assert.equal(store.get(key), undefined);
});

test("memo store: expired entries are swept as the store grows, without timers", async () => {
  const store = new InMemoryMemoStore();
  for (let i = 0; i < 200; i++) store.set(`old-${i}`, [undefined, i], 1);
  await sleep(5);
  for (let i = 0; i < 100; i++) store.set(`new-${i}`, [undefined, i], 10_000);
  assert.ok(store.size <= 100 + 56, `size ${store.size}`);
});
