// InMemoryLockProvider: atomic acquire, owner checks, shared holds, lazy TTL expiry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InMemoryLockProvider } from "../../../src/core/mod.ts";
import { sleep } from "../_helpers.ts";

test("lock provider: of 50 concurrent acquires for one free key exactly one wins", async () => {
  const p = new InMemoryLockProvider();
  const handles = await Promise.all(
    Array.from({ length: 50 }, (_, i) => p.acquire("k", 1_000, `o${i}`)),
  );
  assert.equal(handles.filter((h) => h !== null).length, 1);
});

test("lock provider: extend and release act only for the owner; forceRelease for anyone", async () => {
  const p = new InMemoryLockProvider();
  assert.ok(await p.acquire("k", 1_000, "a"));
  assert.equal(await p.extend("k", 1_000, "b"), false);
  assert.equal(await p.release("k", "b"), false);
  assert.equal(await p.isLocked("k"), true);
  assert.equal(await p.extend("k", 1_000, "a"), true);
  await p.forceRelease("k");
  assert.equal(await p.isLocked("k"), false);
  assert.equal(await p.release("k", "a"), false);
});

test("lock provider: a lock expires ttl ms after it was taken or extended", async () => {
  const p = new InMemoryLockProvider();
  const h = await p.acquire("k", 20, "a");
  assert.ok(h);
  await sleep(30);
  assert.equal(await h.isValid(), false);
  assert.equal(await h.extend(20), false);
  assert.ok(await p.acquire("k", 1_000, "b"));
});

test("lock provider: shared holders coexist, never with an exclusive one", async () => {
  const p = new InMemoryLockProvider();
  const r1 = await p.acquire("k", 1_000, "r1", "shared");
  const r2 = await p.acquire("k", 1_000, "r2", "shared");
  assert.ok(r1 && r2);
  assert.equal(await p.acquire("k", 1_000, "w"), null);
  await r1.release();
  assert.equal(await p.acquire("k", 1_000, "w"), null);
  await r2.release();
  const w = await p.acquire("k", 1_000, "w");
  assert.ok(w);
  assert.equal(await p.acquire("k", 1_000, "r3", "shared"), null);
});

test("lock provider: onRelease listeners hear releases until removed", async () => {
  const p = new InMemoryLockProvider();
  let heard = 0;
  const off = p.onRelease("k", () => heard++);
  const h = await p.acquire("k", 1_000, "a");
  await h!.release();
  assert.equal(heard, 1);
  off();
  await (await p.acquire("k", 1_000, "a"))!.release();
  assert.equal(heard, 1);
});

test("lock provider: bad input throws at once, naming the option", () => {
  const p = new InMemoryLockProvider();
  assert.throws(
    () => p.acquire("k", 0, "a"),
    /"ttl" must be a finite number of milliseconds > 0, received 0/,
  );
  assert.throws(
    () => p.acquire("k", 10, "a", "weird" as never),
    /"mode" must be one of 'exclusive', 'shared', received "weird"/,
  );
  assert.throws(() => p.acquire(5 as never, 10), /"key" must be a string/);
});
