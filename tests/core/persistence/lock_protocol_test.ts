// Keyed locks over a provider written for go-go-scope: go-go-scope's entry
// names, read locks over exclusive-only entries, provider errors retried until
// the timeout, one exclusive hold per Lock object, connect() before first use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InMemoryLockProvider, scope, TimeoutError } from "../../../src/core/mod.ts";
import { recordingLogger, sleep } from "../_helpers.ts";
import { FakeGoGoScopeAdapter } from "./_fake_adapter.ts";

function connectedFake(): FakeGoGoScopeAdapter {
  const fake = new FakeGoGoScopeAdapter();
  fake.connected = true;
  return fake;
}

test("lock protocol: acquire() holds lock:exclusive:<key>, as go-go-scope's Lock names it", async () => {
  const fake = connectedFake();
  await using s = scope({ persistence: fake });
  const guard = await s.acquireLock({ key: "job" }).acquire({ timeout: 0 });
  assert.deepEqual(fake.held(), ["lock:exclusive:job"]);
  await guard.release();
  assert.deepEqual(fake.held(), []);
});

test("lock protocol: a go-go-scope process holding lock:exclusive:<key> keeps ours out, and ours keeps it out", async () => {
  const fake = connectedFake();
  await using s = scope({ persistence: fake });
  const theirs = await fake.acquire("lock:exclusive:job", 5_000, "go-go-scope-process");
  assert.ok(theirs);
  await assert.rejects(
    s.acquireLock({ key: "job" }).acquire({ timeout: 50, pollInterval: 10 }),
    TimeoutError,
  );
  await theirs.release();
  const ours = await s.acquireLock({ key: "job" }).acquire({ timeout: 0 });
  assert.equal(await fake.acquire("lock:exclusive:job", 5_000, "go-go-scope-process"), null);
  await ours.release();
});

test("lock protocol: write() holds lock:write:<key>; read() holds lock:read:<key>:<owner> after checking lock:write:<key>", async () => {
  const fake = connectedFake();
  await using s = scope({ persistence: fake });
  const rw = s.acquireLock({ key: "doc", allowMultipleReaders: true, owner: "me" });
  const w = await rw.write({ timeout: 0 });
  assert.deepEqual(fake.held(), ["lock:write:doc"]);
  await w.release();
  const r = await rw.read({ timeout: 0 });
  const held = fake.held();
  assert.equal(held.length, 1);
  assert.match(held[0]!, /^lock:read:doc:me:\d+$/);
  assert.ok(fake.calls.includes("acquire:lock:write:doc"), "the reader checked for a writer");
  await r.release();
  assert.deepEqual(fake.held(), []);
});

test("lock protocol: over exclusive-only entries, readers do not exclude each other, a writer keeps new readers out", async () => {
  const fake = connectedFake();
  await using s = scope({ persistence: fake });
  const one = s.acquireLock({ key: "doc", allowMultipleReaders: true });
  const two = s.acquireLock({ key: "doc", allowMultipleReaders: true });
  // Several readers at once, from one Lock object and from another.
  const readers = await Promise.all([
    one.read({ timeout: 0 }),
    one.read({ timeout: 0 }),
    two.read({ timeout: 0 }),
  ]);
  await Promise.all(readers.map((r) => r.release()));
  // A writer (ours, or go-go-scope's holding lock:write:<key>) keeps readers out.
  const w = await two.write({ timeout: 0 });
  await assert.rejects(one.read({ timeout: 50, pollInterval: 10 }), TimeoutError);
  const pending = one.read({ timeout: 1_000, pollInterval: 10 });
  await w.release();
  await (await pending).release();
  const theirs = await fake.acquire("lock:write:doc", 5_000, "go-go-scope-writer");
  await assert.rejects(one.read({ timeout: 50, pollInterval: 10 }), TimeoutError);
  await theirs?.release();
});

test("lock protocol: one Lock object's exclusive holds take turns even where an owner may take its entry again", async () => {
  const fake = connectedFake();
  await using s = scope({ persistence: fake });
  const lock = s.acquireLock({ key: "job", owner: "one-owner" });
  const first = await lock.acquire({ timeout: 0 });
  await assert.rejects(lock.acquire({ timeout: 50, pollInterval: 10 }), TimeoutError);
  const started = performance.now();
  const second = lock.acquire({ timeout: 5_000, pollInterval: 2_000 });
  await sleep(20);
  await first.release();
  await (await second).release();
  assert.ok(performance.now() - started < 1_000, "woken by the release, not by the next poll");
});

test("lock protocol: a provider error while acquiring (a deadlock) is tried again until the timeout", async () => {
  const fake = connectedFake();
  const logger = recordingLogger();
  await using s = scope({ persistence: fake, logger });
  fake.failAcquires = 3;
  const guard = await s.acquireLock({ key: "job" }).acquire({ timeout: 2_000, pollInterval: 5 });
  assert.equal(fake.count("acquire"), 4);
  await guard.release();
  const warnings = logger.calls.filter((c) => c.level === "warn");
  assert.equal(warnings.length, 1, "logged once per acquire");
  assert.match(warnings[0]!.msg!, /acquiring a lock failed; trying again until its timeout/);

  fake.failAcquires = Infinity;
  const err = await s.acquireLock({ key: "job" }).acquire({ timeout: 60, pollInterval: 5 })
    .catch((e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(
    err.message,
    /^Lock "job" was not acquired within 60 ms; the provider failed: Deadlock found/,
  );
  assert.match((err.cause as Error).message, /Deadlock found/);
});

test("lock protocol: a provider error with no timeout is retried until the scope is cancelled", async () => {
  const fake = connectedFake();
  fake.failAcquires = Infinity;
  const s = scope({ persistence: fake, logger: recordingLogger() });
  const pending = s.acquireLock({ key: "job" }).acquire({ pollInterval: 5 });
  await sleep(40);
  assert.ok(fake.count("acquire") > 2);
  s.cancel(new Error("shutting down"));
  await assert.rejects(pending, /shutting down/);
  await s[Symbol.asyncDispose]();
});

test("lock protocol: with shared holds (our providers), a waiting writer keeps new readers out and gets the lock when readers leave", async () => {
  const provider = new InMemoryLockProvider();
  await using s = scope({ persistence: { lock: provider } });
  const rw = s.acquireLock({ key: "doc", allowMultipleReaders: true });
  const r1 = await rw.read({ timeout: 0 });
  const writer = rw.write({ timeout: 2_000, pollInterval: 10 });
  await sleep(20);
  assert.equal(
    await provider.isLocked("lock:write:doc"),
    true,
    "the writer waits with lock:write held",
  );
  await assert.rejects(rw.read({ timeout: 50, pollInterval: 10 }), TimeoutError);
  await r1.release();
  const w = await writer;
  assert.equal(
    await provider.isLocked("lock:read:doc"),
    true,
    "the writer holds the readers' entry",
  );
  await w.release();
  assert.equal(await provider.isLocked("lock:write:doc"), false);
  assert.equal(await provider.isLocked("lock:read:doc"), false);
});

test("lock protocol: cancelling the scope while a writer waits for readers releases its write entry", async () => {
  const provider = new InMemoryLockProvider();
  const s = scope({ persistence: { lock: provider } });
  const rw = s.acquireLock({ key: "doc", allowMultipleReaders: true });
  const reader = await provider.acquire("lock:read:doc", 5_000, "elsewhere", "shared");
  const writer = rw.write({ pollInterval: 10 });
  await sleep(20);
  assert.equal(await provider.isLocked("lock:write:doc"), true);
  s.cancel("stop");
  await assert.rejects(writer);
  await s[Symbol.asyncDispose]();
  assert.equal(await provider.isLocked("lock:write:doc"), false);
  await reader?.release();
});

test("lock protocol: an adapter's connect() runs once, before the first lock call, for every scope using it", async () => {
  const fake = new FakeGoGoScopeAdapter();
  await using a = scope({ persistence: fake });
  await using b = scope({ persistence: fake });
  const [g1, g2] = await Promise.all([
    a.acquireLock({ key: "x" }).acquire({ timeout: 1_000 }),
    b.acquireLock({ key: "y" }).acquire({ timeout: 1_000 }),
  ]);
  assert.equal(fake.connects, 1);
  await g1.release();
  await g2.release();
});

test("lock protocol: a connect() that failed is tried again by the next call", async () => {
  const fake = new FakeGoGoScopeAdapter();
  fake.failConnects = 1;
  await using s = scope({ persistence: fake, logger: recordingLogger() });
  await sleep(20); // the first connect fails meanwhile
  const guard = await s.acquireLock({ key: "x" }).acquire({ timeout: 1_000, pollInterval: 5 });
  assert.equal(fake.connects, 2);
  assert.equal(fake.connected, true);
  await guard.release();
});

test("lock protocol: a provider given as the lock's own option is connected too", async () => {
  const fake = new FakeGoGoScopeAdapter();
  await using s = scope();
  const guard = await s.acquireLock({ key: "x", provider: fake }).acquire({ timeout: 1_000 });
  assert.equal(fake.connects, 1);
  await guard.release();
});
