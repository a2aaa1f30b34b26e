// scope.task(): eager, Result tuples, never rejects, cancellation, timeouts,
// errors. One named test per rule of core_contract.md ("scope.task").
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  CircuitBreaker,
  type Result,
  scope,
  Task,
  TimeoutError,
  UnknownError,
} from "../../../src/core/mod.ts";
import {
  alive,
  deferred,
  dispose,
  forever,
  recordingLogger,
  sleep,
  tick,
  untilAborted,
} from "../_helpers.ts";

test("task: starts eagerly, without being awaited", async () => {
  const s = scope();
  let started = false;
  const t = s.task(async () => {
    started = true;
    await tick();
  });
  assert.equal(started, true);
  assert.ok(t instanceof Task);
  await t;
  await dispose(s);
});

test("task: an un-awaited task still runs to completion", async () => {
  const s = scope();
  const done = deferred<string>();
  s.task(async () => {
    await tick();
    done.resolve("finished");
  });
  assert.equal(await done.promise, "finished");
  await dispose(s);
});

test("task: success resolves [undefined, value] (sync and async functions)", async () => {
  const s = scope();
  assert.deepEqual(await s.task(() => 42), [undefined, 42]);
  assert.deepEqual(await s.task(async () => "x"), [undefined, "x"]);
  const obj = { a: 1 };
  const [err, value] = await s.task(() => Promise.resolve(obj));
  assert.equal(err, undefined);
  assert.equal(value, obj);
  await dispose(s);
});

test("task: a Result narrows value to T once err is checked", async () => {
  const s = scope();
  const result: Result<Error, number> = await s.task(() => 2);
  const [err, value] = result;
  if (err) assert.fail("unexpected error");
  const doubled: number = value * 2; // compiles only if narrowed
  assert.equal(doubled, 4);
  await dispose(s);
});

test("task: a thrown Error reaches the Result unchanged", async () => {
  class MyError extends Error {}
  const s = scope();
  const boom = new MyError("boom");
  const [err, value] = await s.task(() => {
    throw boom;
  });
  assert.equal(err, boom);
  assert.ok(err instanceof MyError);
  assert.equal(value, undefined);
  const [err2] = await s.task(() => Promise.reject(boom));
  assert.equal(err2, boom);
  await dispose(s);
});

test("task: a thrown non-Error becomes UnknownError with the value as cause", async () => {
  const s = scope();
  const [err] = await s.task(() => {
    throw "boom";
  });
  assert.ok(err instanceof UnknownError);
  assert.equal(err.message, "boom");
  assert.equal(err.cause, "boom");
  const thrown = { code: 7 };
  const [err2] = await s.task(() => Promise.reject(thrown));
  assert.ok(err2 instanceof UnknownError);
  assert.equal(err2.cause, thrown);
  await dispose(s);
});

test("task: never rejects, even when the function throws", async () => {
  const s = scope();
  const t = s.task(() => {
    throw new Error("x");
  });
  let rejected = false;
  await t.then(undefined, () => {
    rejected = true;
  });
  assert.equal(rejected, false);
  await dispose(s);
});

test("task: can be awaited many times and gives the same Result", async () => {
  const s = scope();
  const t = s.task(async () => ({ n: 1 }));
  const r1 = await t;
  const r2 = await t;
  assert.equal(r1, r2);
  assert.equal(r1[1], r2[1]);
  await dispose(s);
});

test("task: has a unique id, a name, and isSettled flips when the Result is known", async () => {
  const s = scope();
  const gate = deferred();
  const a = s.task(() => gate.promise);
  const b = s.task(() => 1, { name: "named" });
  assert.notEqual(a.id, b.id);
  assert.match(a.name, /^task-\d+$/);
  assert.equal(b.name, "named");
  assert.equal(a.isSettled, false);
  gate.resolve();
  await a;
  assert.equal(a.isSettled, true);
  await dispose(s);
});

test("task: the function receives { signal, context, logger }; signal is the task's own", async () => {
  const logger = recordingLogger();
  const s = scope({ context: { user: "u1" }, logger });
  let seenSignal: AbortSignal | undefined;
  const t = s.task(({ signal, context, logger: l }) => {
    seenSignal = signal;
    assert.equal(context.user, "u1");
    assert.equal(l, logger);
  });
  await t;
  assert.equal(seenSignal, t.signal);
  assert.notEqual(seenSignal, s.signal);
  await dispose(s);
});

test("task: the scope tracks the task until it settles (taskCount)", async () => {
  const s = scope();
  const gate = deferred();
  const t = s.task(() => gate.promise);
  assert.equal(s.taskCount, 1);
  gate.resolve();
  await t;
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("task: cancel(reason) aborts its signal with the reason and settles at once", async () => {
  const s = scope();
  let signal: AbortSignal | undefined;
  const t = s.task((ctx) => {
    signal = ctx.signal;
    return forever();
  });
  const reason = new Error("stop");
  t.cancel(reason);
  assert.equal(t.isSettled, true);
  assert.equal(signal?.aborted, true);
  assert.equal(signal?.reason, reason);
  const [err] = await t;
  assert.equal(err, reason);
  assert.equal(s.signal.aborted, false);
  await dispose(s);
});

test("task: cancel() without a reason gives an AbortError; a string reason is wrapped", async () => {
  const s = scope();
  const a = s.task(() => forever());
  a.cancel();
  const [errA] = await a;
  assert.ok(errA instanceof AbortError);
  assert.equal(a.signal.reason, errA);
  const b = s.task(() => forever());
  b.cancel("not needed");
  const [errB] = await b;
  assert.ok(errB instanceof AbortError);
  assert.equal(errB.reason, "not needed");
  assert.equal(b.signal.reason, "not needed");
  await dispose(s);
});

test("task: cancel() after settling changes nothing", async () => {
  const s = scope();
  const t = s.task(() => 1);
  await t;
  t.cancel(new Error("late"));
  assert.deepEqual(await t, [undefined, 1]);
  assert.equal(t.signal.aborted, false);
  await dispose(s);
});

test("task: the signal aborts when the scope aborts, with the scope's reason", async () => {
  const s = scope();
  const t = s.task(({ signal }) => untilAborted(signal));
  const reason = new Error("scope gone");
  s.cancel(reason);
  assert.equal(t.signal.reason, reason);
  const [err] = await t;
  assert.equal(err, reason);
  await dispose(s);
});

test("task: the signal aborts when the timeout expires, with a TimeoutError", async () => {
  const s = scope();
  const t = s.task(({ signal }) => untilAborted(signal), { timeout: 5 });
  const [err] = await alive(t);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.timeout, 5);
  assert.equal(t.signal.reason, err);
  await dispose(s);
});

test("task: the timeout gives a TimeoutError at once even if the function ignores the signal", async () => {
  const s = scope();
  const t = s.task(() => forever(), { timeout: 5 });
  const [err] = await alive(t);
  assert.ok(err instanceof TimeoutError);
  assert.equal(t.isSettled, true);
  await dispose(s);
});

test("task: the timeout timer is cleared when the task settles first", async () => {
  // Deno's sanitizer fails this test if the 50 ms timer outlives it.
  const s = scope();
  assert.deepEqual(await s.task(() => "quick", { timeout: 50 }), [undefined, "quick"]);
  await dispose(s);
});

test("task: the timeout is a deadline over all retries, not per attempt", async () => {
  const s = scope();
  let attempts = 0;
  const t = s.task(async ({ signal }) => {
    attempts++;
    await sleep(4);
    signal.throwIfAborted();
    throw new Error("flaky");
  }, { timeout: 20, retry: { max: 1000, delay: 1 } });
  const [err] = await alive(t);
  assert.ok(err instanceof TimeoutError);
  assert.ok(attempts >= 1 && attempts < 20, `attempts: ${attempts}`);
  const seen = attempts;
  await sleep(15);
  assert.equal(attempts, seen, "no attempt starts after the deadline");
  await dispose(s);
});

test("task: an extra signal option cancels the task with its reason", async () => {
  const s = scope();
  const controller = new AbortController();
  const t = s.task(({ signal }) => untilAborted(signal), { signal: controller.signal });
  const reason = new Error("extra");
  controller.abort(reason);
  const [err] = await t;
  assert.equal(err, reason);
  assert.equal(t.signal.reason, reason);
  assert.equal(s.signal.aborted, false);
  await dispose(s);
});

test("task: an already aborted signal option fails the task without calling the function", async () => {
  const s = scope();
  let called = false;
  const reason = new Error("pre");
  const [err] = await s.task(() => {
    called = true;
  }, { signal: AbortSignal.abort(reason) });
  assert.equal(called, false);
  assert.equal(err, reason);
  await dispose(s);
});

test("task: on a disposed scope the function is not called and the Result carries the scope's reason", async () => {
  const s = scope();
  await dispose(s);
  let called = false;
  const t = s.task(() => {
    called = true;
  });
  const [err] = await t;
  assert.equal(called, false);
  assert.equal(err, s.signal.reason);
  assert.ok(err instanceof AbortError);
  assert.equal(t.signal.aborted, true);
});

test("task: on an aborted scope (timed out) the Result is the scope's TimeoutError", async () => {
  const s = scope({ timeout: 5 });
  await alive(new Promise<void>((resolve) => s.signal.addEventListener("abort", () => resolve())));
  let called = false;
  const [err] = await s.task(() => {
    called = true;
  });
  assert.equal(called, false);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err, s.signal.reason);
  await dispose(s);
});

test("task: a non-function throws a TypeError at once", async () => {
  const s = scope();
  for (const bad of [undefined, null, 1, "fn", {}, Promise.resolve(1)]) {
    assert.throws(
      () => s.task(bad as unknown as () => void),
      (e) => e instanceof TypeError && /"fn" must be a function/.test(e.message),
    );
  }
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("task: circuitBreaker false bypasses the scope's breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  const s = scope({ circuitBreaker: breaker });
  await s.task(() => Promise.reject(new Error("down")), { circuitBreaker: false });
  assert.equal(breaker.state, "closed");
  await s.task(() => Promise.reject(new Error("down")));
  assert.equal(breaker.state, "open");
  assert.deepEqual(await s.task(() => "ok", { circuitBreaker: false }), [undefined, "ok"]);
  await dispose(s);
});

test("task: a circuitBreaker option is used instead of the scope's", async () => {
  const scopeBreaker = new CircuitBreaker({ failureThreshold: 1 });
  const taskBreaker = new CircuitBreaker({ failureThreshold: 1 });
  const s = scope({ circuitBreaker: scopeBreaker });
  await s.task(() => Promise.reject(new Error("down")), { circuitBreaker: taskBreaker });
  assert.equal(taskBreaker.state, "open");
  assert.equal(scopeBreaker.state, "closed");
  await dispose(s);
});

test("task: a task settled by abort ignores the function's later outcome", async () => {
  const s = scope();
  const gate = deferred<string>();
  const t = s.task(() => gate.promise);
  t.cancel(new Error("first"));
  gate.resolve("late value");
  await tick();
  const [err, value] = await t;
  assert.equal((err as Error).message, "first");
  assert.equal(value, undefined);
  await dispose(s);
});

// Keep this test last in the file: when it fails, the runtime finds an idle event loop and
// Node cancels whatever tests of the file are still to run.
test("task: a task timeout fires even when nothing else keeps the event loop alive", async () => {
  // No helper timer: `await s.task(() => new Promise(() => {}), { timeout })`
  // in a script must resolve a TimeoutError, not end the program.
  const s = scope();
  const [err] = await s.task(() => forever(), { timeout: 5 });
  assert.ok(err instanceof TimeoutError);
  await dispose(s);
});
