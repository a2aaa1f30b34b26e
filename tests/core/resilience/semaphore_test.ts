// Semaphore and scope.semaphore(n).
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope, Semaphore } from "../../../src/core/mod.ts";
import { countedSignal } from "../_listeners.ts";
import { deferred, dispose, sleep, tick } from "../_helpers.ts";

test("semaphore: at most n holders run at once; the permit comes back when fn settles", async () => {
  const sem = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const job = (i: number) =>
    sem.acquire(async () => {
      peak = Math.max(peak, ++running);
      await sleep(5);
      running--;
      return i;
    });
  const results = await Promise.all([job(1), job(2), job(3), job(4), job(5)]);
  assert.deepEqual(results, [1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.equal(sem.available, 2);
  assert.equal(sem.waiting, 0);
  assert.equal(sem.totalPermits, 2);
});

test("semaphore: available and waiting follow holders and waiters", async () => {
  const sem = new Semaphore(1);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise);
  const queued = sem.acquire(() => "second");
  await tick();
  assert.equal(sem.available, 0);
  assert.equal(sem.waiting, 1);
  gate.resolve();
  await held;
  assert.equal(await queued, "second");
  assert.equal(sem.available, 1);
  assert.equal(sem.waiting, 0);
});

test("semaphore: a throwing fn rejects acquire and still gives its permit back", async () => {
  const sem = new Semaphore(1);
  await assert.rejects(
    sem.acquire(() => {
      throw new Error("inside");
    }),
    { message: "inside" },
  );
  assert.equal(sem.available, 1);
  assert.equal(await sem.acquire(() => 7), 7);
});

test("semaphore: higher priority waiters go first, equal priorities in arrival order", async () => {
  const sem = new Semaphore(1);
  const gate = deferred();
  const order: string[] = [];
  const held = sem.acquire(() => gate.promise);
  const waiters = [
    sem.acquire(() => order.push("low"), 0),
    sem.acquire(() => order.push("high-a"), 5),
    sem.acquire(() => order.push("mid"), 2),
    sem.acquire(() => order.push("high-b"), 5),
  ];
  gate.resolve();
  await held;
  await Promise.all(waiters);
  assert.deepEqual(order, ["high-a", "high-b", "mid", "low"]);
});

test("semaphore: its signal rejects every waiter with the reason, and later acquires too", async () => {
  const counted = countedSignal();
  const sem = new Semaphore(1, counted.signal);
  assert.equal(counted.live, 1);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise.then(() => "held"));
  const waiter = sem.acquire(() => "never");
  const reason = new Error("stop");
  counted.controller.abort(reason);
  await assert.rejects(waiter, (e) => e === reason);
  assert.equal(sem.waiting, 0);
  assert.equal(counted.live, 0);
  gate.resolve();
  assert.equal(await held, "held", "a holder finishes");
  await assert.rejects(sem.acquire(() => 1), (e) => e === reason);
});

test("semaphore: disposing rejects waiters with an AbortError and removes its listener", async () => {
  const counted = countedSignal();
  const sem = new Semaphore(1, counted.signal);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise);
  const waiter = sem.acquire(() => 1);
  await sem[Symbol.asyncDispose]();
  await assert.rejects(
    waiter,
    (e) => e instanceof AbortError && e.message === "Semaphore disposed",
  );
  assert.equal(counted.live, 0);
  gate.resolve();
  await held;
});

test("scope.semaphore: waiters are rejected with the scope's reason when it is disposed", async () => {
  const s = scope();
  const sem = s.semaphore(1);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise);
  const waiter = sem.acquire(() => 1);
  const disposal = dispose(s);
  await assert.rejects(waiter, (e) => e === s.abortReason);
  assert.equal((s.abortReason as Error).message, "Scope disposed");
  gate.resolve();
  await held;
  await disposal;
  await assert.rejects(sem.acquire(() => 1), (e) => e === s.abortReason);
});

test("scope.semaphore: a cancelled scope rejects waiters with its cancel reason", async () => {
  const s = scope();
  const sem = s.semaphore(1);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise);
  const waiter = sem.acquire(() => 1);
  const reason = new Error("cancelled");
  s.cancel(reason);
  await assert.rejects(waiter, (e) => e === reason);
  gate.resolve();
  await held;
  await dispose(s);
});

test("semaphore: bad input is a clear TypeError or RangeError", async () => {
  assert.throws(() => new Semaphore(0), {
    name: "RangeError",
    message: 'Cannot create semaphore: "permits" must be an integer >= 1, received 0',
  });
  assert.throws(() => new Semaphore(1.5), { name: "RangeError" });
  assert.throws(() => new Semaphore("2" as unknown as number), { name: "TypeError" });
  assert.throws(() => new Semaphore(1, {} as AbortSignal), { name: "TypeError" });
  const s = scope();
  assert.throws(() => s.semaphore(-1), { name: "RangeError" });
  const sem = new Semaphore(1);
  await assert.rejects(sem.acquire("x" as unknown as () => void), {
    name: "TypeError",
    message: 'Cannot acquire semaphore: "fn" must be a function, received "x"',
  });
  await assert.rejects(sem.acquire(() => 1, NaN), { name: "TypeError" });
  assert.equal(sem.available, 1);
  await dispose(s);
});

test("semaphore: execute(fn) is acquire(fn)", async () => {
  const sem = new Semaphore(1);
  assert.equal(await sem.execute(() => "ran"), "ran");
  assert.equal(sem.available, 1);
});

// ---------------------------------------------------------------- permits by hand

test("semaphore: tryAcquire takes a free permit, release gives it back", () => {
  const sem = new Semaphore(1);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), false);
  assert.equal(sem.available, 0);
  sem.release();
  assert.equal(sem.available, 1);
  assert.equal(sem.tryAcquire(), true);
  sem.release();
});

test("semaphore: tryAcquireWithFn runs fn only when a permit is free at once", async () => {
  const sem = new Semaphore(1);
  assert.equal(await sem.tryAcquireWithFn(() => "ran"), "ran");
  assert.equal(sem.available, 1);
  sem.tryAcquire();
  let called = false;
  assert.equal(await sem.tryAcquireWithFn(() => called = true), undefined);
  assert.equal(called, false);
  sem.release();
});

test("semaphore: acquireWithTimeout resolves true with a permit, false when time runs out", async () => {
  const sem = new Semaphore(1);
  assert.equal(await sem.acquireWithTimeout(100), true);
  assert.equal(sem.available, 0);
  const start = performance.now();
  assert.equal(await sem.acquireWithTimeout(10), false);
  assert.ok(performance.now() - start >= 8);
  assert.equal(sem.waiting, 0, "a timed-out waiter leaves the queue");
  const waiting = sem.acquireWithTimeout(1000);
  await tick();
  sem.release();
  assert.equal(await waiting, true, "a release hands the permit over");
  sem.release();
  assert.equal(sem.available, 1);
  // Deno's sanitizer fails this test if a timer was left pending.
});

test("semaphore: acquireWithTimeoutAndFn runs fn with a permit that came in time", async () => {
  const sem = new Semaphore(1);
  assert.equal(await sem.acquireWithTimeoutAndFn(100, () => "executed"), "executed");
  assert.equal(sem.available, 1);
  const gate = deferred();
  const held = sem.acquire(() => gate.promise);
  let called = false;
  assert.equal(await sem.acquireWithTimeoutAndFn(10, () => called = true), undefined);
  assert.equal(called, false);
  gate.resolve();
  await held;
});

test("semaphore: acquireWithTimeout resolves false when the semaphore ends, timer cleared", async () => {
  const sem = new Semaphore(1);
  sem.tryAcquire();
  const waiting = sem.acquireWithTimeout(10_000);
  await sem[Symbol.asyncDispose]();
  assert.equal(await waiting, false);
  assert.equal(await sem.acquireWithTimeout(10), false);
  assert.equal(sem.tryAcquire(), false);
});

test("semaphore: bulkAcquire holds count permits at once while fn runs", async () => {
  const sem = new Semaphore(5);
  const result = await sem.bulkAcquire(3, () => {
    assert.equal(sem.available, 2);
    return "executed";
  });
  assert.equal(result, "executed");
  assert.equal(sem.available, 5);
});

test("semaphore: a bulk waiter is served before later callers, all its permits at once", async () => {
  const sem = new Semaphore(3);
  const order: string[] = [];
  const gates = [deferred(), deferred()];
  const a = sem.acquire(() => gates[0]!.promise);
  const b = sem.acquire(() => gates[1]!.promise);
  const bulk = sem.bulkAcquire(3, () => order.push("bulk"));
  await tick();
  assert.equal(sem.available, 1, "one permit free, the bulk waiter needs three");
  assert.equal(sem.tryAcquire(), false, "nobody jumps the queue");
  const later = sem.acquire(() => order.push("later"));
  gates[0]!.resolve();
  gates[1]!.resolve();
  await Promise.all([a, b, bulk, later]);
  assert.deepEqual(order, ["bulk", "later"]);
  assert.equal(sem.available, 3);
});

test("semaphore: tryBulkAcquire takes count free permits or none", () => {
  const sem = new Semaphore(5);
  assert.equal(sem.tryBulkAcquire(3), true);
  assert.equal(sem.available, 2);
  assert.equal(sem.tryBulkAcquire(3), false);
  assert.equal(sem.tryBulkAcquire(10), false, "more than it has");
  sem.release();
  sem.release(2);
  assert.equal(sem.available, 5);
});

test("semaphore: bad counts are RangeErrors in go-go-scope's words; release checks what is held", async () => {
  const sem = new Semaphore(5);
  for (const count of [0, -1, 1.5, NaN]) {
    assert.throws(() => sem.tryBulkAcquire(count), {
      name: "RangeError",
      message: /^Cannot acquire semaphore permits: count must be positive \(an integer >= 1\)/,
    });
    await assert.rejects(sem.bulkAcquire(count, () => 1), { name: "RangeError" });
  }
  await assert.rejects(sem.bulkAcquire(6, () => 1), {
    name: "RangeError",
    message: "Cannot acquire semaphore permits: count (6) exceeds the total permits (5)",
  });
  assert.throws(() => sem.release(), {
    name: "RangeError",
    message:
      'Cannot release semaphore: "count" must be an integer from 1 to the 0 permits held, received 1',
  });
  await assert.rejects(sem.acquireWithTimeout(-1), { name: "RangeError" });
  assert.equal(sem.available, 5);
});

test("scope.semaphore: a bulk waiter is rejected with the scope's reason when it is disposed", async () => {
  const s = scope();
  const sem = s.semaphore(2);
  sem.tryAcquire();
  const bulk = sem.bulkAcquire(2, () => 1);
  await tick();
  await dispose(s);
  await assert.rejects(bulk, (e) => e === s.abortReason);
  assert.equal(sem.waiting, 0);
});
