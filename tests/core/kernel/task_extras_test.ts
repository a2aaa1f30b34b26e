// Task options errorClass, systemErrorClass, dedupe, memo, priority, a
// per-task circuitBreaker, and Task[Symbol.dispose].
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  CircuitOpenError,
  scope,
  TimeoutError,
  UnknownError,
} from "../../../src/core/mod.ts";
import { deferred, dispose, sleep, tick, untilAborted } from "../_helpers.ts";

class DatabaseError extends Error {
  readonly _tag = "DatabaseError";
}
class NotFound extends Error {
  readonly _tag = "NotFound";
}

// ---------------------------------------------------------------- errorClass

test("errorClass: every failure is wrapped, message kept, original as cause", async () => {
  await using s = scope();
  const original = new TypeError("socket closed");
  const [err] = await s.task(() => Promise.reject(original), { errorClass: DatabaseError });
  assert.ok(err instanceof DatabaseError);
  assert.equal(err._tag, "DatabaseError");
  assert.equal(err.message, "socket closed");
  assert.equal(err.cause, original);
  const [fromString] = await s.task(() => {
    throw "raw";
  }, { errorClass: DatabaseError });
  assert.ok(fromString instanceof DatabaseError);
  assert.equal(fromString.message, "raw");
});

test("errorClass: timeouts and cancellations are wrapped too; an instance passes as is", async () => {
  await using s = scope();
  const [timedOut] = await s.task(({ signal }) => untilAborted(signal), {
    timeout: 5,
    errorClass: DatabaseError,
  });
  assert.ok(timedOut instanceof DatabaseError);
  assert.ok(timedOut.cause instanceof TimeoutError);
  const t = s.task(({ signal }) => untilAborted(signal), { errorClass: DatabaseError });
  t.cancel();
  const [cancelled] = await t;
  assert.ok(cancelled instanceof DatabaseError);
  assert.ok(cancelled.cause instanceof AbortError);
  const own = new DatabaseError("already");
  const [same] = await s.task(() => Promise.reject(own), { errorClass: DatabaseError });
  assert.equal(same, own);
});

// ---------------------------------------------------------------- systemErrorClass

test("systemErrorClass: plain errors and non-Errors are wrapped; tagged errors and subclasses pass", async () => {
  await using s = scope();
  const plain = new Error("ECONNRESET");
  const [wrapped] = await s.task(() => Promise.reject(plain), { systemErrorClass: DatabaseError });
  assert.ok(wrapped instanceof DatabaseError);
  assert.equal(wrapped.message, "ECONNRESET");
  assert.equal(wrapped.cause, plain);
  const [fromNumber] = await s.task(() => Promise.reject(42), { systemErrorClass: DatabaseError });
  assert.ok(fromNumber instanceof DatabaseError);
  assert.equal(fromNumber.message, "42");
  const business = new NotFound("no user");
  const [kept] = await s.task(() => Promise.reject(business), { systemErrorClass: DatabaseError });
  assert.equal(kept, business);
  const tagged = Object.assign(new Error("tagged"), { _tag: "Rule" });
  const [keptTagged] = await s.task(() => Promise.reject(tagged), {
    systemErrorClass: DatabaseError,
  });
  assert.equal(keptTagged, tagged);
});

test("systemErrorClass: cancellations are not wrapped", async () => {
  await using s = scope();
  const t = s.task(({ signal }) => untilAborted(signal), { systemErrorClass: DatabaseError });
  t.cancel();
  const [err] = await t;
  assert.ok(err instanceof AbortError);
});

test("without either option a plain Error becomes UnknownError (the default system class)", async () => {
  await using s = scope();
  const [err] = await s.task(() => Promise.reject(new Error("x")));
  assert.ok(err instanceof UnknownError);
});

test("errorClass and systemErrorClass together: errorClass wins, for every failure", async () => {
  class SystemError extends Error {}
  await using s = scope();
  const both = { errorClass: DatabaseError, systemErrorClass: SystemError };
  const cases: [string, () => unknown][] = [
    ["a plain Error", () => Promise.reject(new Error("plain"))],
    ["a subclass", () => Promise.reject(new RangeError("sub"))],
    ["a non-Error", () => Promise.reject(42)],
  ];
  for (const [what, fn] of cases) {
    const [err] = await s.task(fn, both);
    assert.ok(err instanceof DatabaseError, what);
  }
  const t = s.task(({ signal }) => untilAborted(signal), both);
  t.cancel(new Error("stop"));
  const [cancelled] = await t;
  assert.ok(cancelled instanceof DatabaseError, "a cancellation too");
});

test("errorClass or systemErrorClass that is not a class is a TypeError naming the option", async () => {
  await using s = scope();
  assert.throws(
    () => s.task(() => 1, { systemErrorClass: (() => {}) as never }),
    (e: unknown) =>
      e instanceof TypeError && /"systemErrorClass" must be an Error class/.test(e.message),
  );
});

// ---------------------------------------------------------------- dedupe

test("dedupe: concurrent tasks with one key share one run and one Result", async () => {
  await using s = scope();
  let runs = 0;
  const gate = deferred();
  const fetchUser = async () => {
    runs++;
    await gate.promise;
    return { id: 1 };
  };
  const t1 = s.task(fetchUser, { dedupe: "user:1" });
  const t2 = s.task(fetchUser, { dedupe: "user:1" });
  const other = s.task(fetchUser, { dedupe: "user:2" });
  gate.resolve();
  const [r1, r2, r3] = await Promise.all([t1, t2, other]);
  assert.equal(runs, 2);
  assert.equal(r1, r2, "the same Result tuple");
  assert.notEqual(r1, r3);
  // Settled: the key is free again.
  await s.task(fetchUser, { dedupe: "user:1" });
  assert.equal(runs, 3);
});

test("dedupe: a shared failure reaches every task; cancelling a follower leaves the run alone", async () => {
  await using s = scope();
  const gate = deferred();
  const boom = new RangeError("boom");
  const fn = async () => {
    await gate.promise;
    throw boom;
  };
  const leader = s.task(fn, { dedupe: Symbol.for("k") });
  const follower = s.task(fn, { dedupe: Symbol.for("k") });
  const quitter = s.task(fn, { dedupe: Symbol.for("k") });
  quitter.cancel("not needed");
  gate.resolve();
  const [[e1], [e2], [e3]] = await Promise.all([leader, follower, quitter]);
  assert.equal(e1, boom);
  assert.equal(e2, boom);
  assert.ok(e3 instanceof AbortError);
});

test("dedupe: followers are aborted with the scope", async () => {
  const s = scope();
  const leader = s.task(({ signal }) => untilAborted(signal), { dedupe: "k" });
  const follower = s.task(({ signal }) => untilAborted(signal), { dedupe: "k" });
  await dispose(s);
  assert.ok((await leader)[0] instanceof AbortError);
  assert.ok((await follower)[0] instanceof AbortError);
});

// ---------------------------------------------------------------- memo

test("memo: a successful Result is reused for ttl ms without running again", async () => {
  await using s = scope();
  let runs = 0;
  const fn = () => ++runs;
  const first = await s.task(fn, { memo: { key: "n", ttl: 30 } });
  const second = await s.task(fn, { memo: { key: "n", ttl: 30 } });
  assert.equal(runs, 1);
  assert.equal(second, first);
  assert.deepEqual(second, [undefined, 1]);
  await sleep(40);
  const third = await s.task(fn, { memo: { key: "n", ttl: 30 } });
  assert.deepEqual(third, [undefined, 2]);
});

test("memo: failures are not cached, and a child scope has its own cache", async () => {
  await using s = scope();
  let runs = 0;
  const flaky = () => {
    runs++;
    if (runs === 1) throw new RangeError("first fails");
    return runs;
  };
  const [err] = await s.task(flaky, { memo: { key: "f", ttl: 1000 } });
  assert.ok(err instanceof RangeError);
  assert.deepEqual(await s.task(flaky, { memo: { key: "f", ttl: 1000 } }), [undefined, 2]);
  assert.deepEqual(await s.task(flaky, { memo: { key: "f", ttl: 1000 } }), [undefined, 2]);
  assert.deepEqual(
    await s.createChild().task(flaky, { memo: { key: "f", ttl: 1000 } }),
    [undefined, 3],
  );
});

// ---------------------------------------------------------------- priority

test("priority: under a concurrency limit higher priority starts first, FIFO among equals", async () => {
  await using s = scope({ concurrency: 1 });
  const order: string[] = [];
  const gate = deferred();
  const blocker = s.task(() => gate.promise);
  const tasks = [
    s.task(() => void order.push("low"), { priority: -1 }),
    s.task(() => void order.push("normal-1")),
    s.task(() => void order.push("high-1"), { priority: 10 }),
    s.task(() => void order.push("normal-2"), { priority: 0 }),
    s.task(() => void order.push("high-2"), { priority: 10 }),
    s.task(() => void order.push("mid"), { priority: 5 }),
  ];
  gate.resolve();
  await blocker;
  await Promise.all(tasks);
  assert.deepEqual(order, ["high-1", "high-2", "mid", "normal-1", "normal-2", "low"]);
});

test("priority: a non-finite number is rejected", async () => {
  await using s = scope();
  assert.throws(() => s.task(() => 1, { priority: Infinity }), RangeError);
  assert.throws(() => s.task(() => 1, { priority: "high" as never }), TypeError);
});

// ---------------------------------------------------------------- circuitBreaker options

test("circuitBreaker options: the task gets a breaker of its own that its retries go through", async () => {
  await using s = scope();
  let calls = 0;
  const [err] = await s.task(() => {
    calls++;
    throw new RangeError("down");
  }, { retry: { max: 5, delay: 0 }, circuitBreaker: { failureThreshold: 2, resetTimeout: 1000 } });
  assert.equal(calls, 2, "the breaker opened after two failures");
  assert.ok(err instanceof CircuitOpenError);
  // Another task starts with its own closed breaker.
  const [, value] = await s.task(() => "ok", { circuitBreaker: { failureThreshold: 1 } });
  assert.equal(value, "ok");
});

// ---------------------------------------------------------------- Symbol.dispose

test("Task[Symbol.dispose]: `using` cancels an unsettled task; disposing twice is harmless", async () => {
  await using s = scope();
  let signal: AbortSignal | undefined;
  let task;
  {
    using t = s.task((ctx) => {
      signal = ctx.signal;
      return untilAborted(ctx.signal);
    });
    task = t;
  }
  assert.equal(signal?.aborted, true);
  const [err] = await task;
  assert.ok(err instanceof AbortError);
  assert.match(err.message, /disposed before it settled/);
  task[Symbol.dispose]();
  assert.equal((await task)[0], err);
});

test("Task[Symbol.dispose]: a settled task keeps its Result", async () => {
  await using s = scope();
  const t = s.task(() => 7);
  await tick();
  t[Symbol.dispose]();
  assert.deepEqual(await t, [undefined, 7]);
});

// ---------------------------------------------------------------- concurrency getter

test("scope.concurrency: the limit, inherited by children (each counts its own tasks)", async () => {
  await using s = scope({ concurrency: 2 });
  assert.equal(s.concurrency, 2);
  assert.equal(scope().concurrency, undefined);
  const child = s.createChild();
  assert.equal(child.concurrency, 2);
  assert.equal(s.createChild({ concurrency: 5 }).concurrency, 5);
  let running = 0;
  let peak = 0;
  const work = async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(2);
    running--;
  };
  await Promise.all([child.task(work), child.task(work), child.task(work)]);
  assert.equal(peak, 2);
});
