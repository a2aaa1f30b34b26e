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
