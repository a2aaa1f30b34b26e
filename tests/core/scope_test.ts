// The scope: options, members, disposal. One named test per rule of
// core_contract.md ("scope(options?)" and "Disposal").
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { AbortError, CircuitBreaker, type Scope, scope, TimeoutError } from "../../src/core/mod.ts";
import {
  alive,
  deferred,
  dispose,
  forever,
  recordingLogger,
  sleep,
  tick,
  untilAborted,
} from "./_helpers.ts";

// ---------------------------------------------------------------- options

test("scope: the name defaults to scope-<n>, distinct per scope", async () => {
  const a = scope();
  const b = scope({});
  try {
    assert.match(a.name, /^scope-\d+$/);
    assert.match(b.name, /^scope-\d+$/);
    assert.notEqual(a.name, b.name);
  } finally {
    await dispose(a);
    await dispose(b);
  }
});

test("scope: the name option is used as given", async () => {
  const s = scope({ name: "job" });
  assert.equal(s.name, "job");
  await dispose(s);
});

test("scope: a child aborts when its parent aborts, with the same reason", async () => {
  const parent = scope();
  const child = scope({ parent });
  const grandchild = child.createChild();
  const reason = new Error("parent gone");
  parent.cancel(reason);
  assert.equal(child.signal.aborted, true);
  assert.equal(child.signal.reason, reason);
  assert.equal(grandchild.signal.reason, reason);
  await dispose(parent);
});

test("scope: a child created under an already aborted parent starts aborted with its reason", async () => {
  const parent = scope();
  const reason = new Error("early");
  parent.cancel(reason);
  const child = parent.createChild();
  assert.equal(child.signal.aborted, true);
  assert.equal(child.signal.reason, reason);
  await dispose(child);
  await dispose(parent);
});

test("scope: aborting a child does not abort its parent", async () => {
  const parent = scope();
  const child = parent.createChild();
  child.cancel(new Error("only me"));
  assert.equal(parent.signal.aborted, false);
  await dispose(child);
  assert.equal(parent.signal.aborted, false);
  await dispose(parent);
});

test("scope: the parent tracks live children and forgets a child once it is disposed", async () => {
  const parent = scope();
  const a = parent.createChild();
  const b = scope({ parent });
  assert.equal(parent.childCount, 2);
  assert.equal(b.parent, parent);
  await dispose(a);
  assert.equal(parent.childCount, 1);
  await dispose(b);
  assert.equal(parent.childCount, 0);
  await dispose(parent);
});

test("scope: an external signal aborts the scope with its reason (no parent)", async () => {
  const controller = new AbortController();
  const s = scope({ signal: controller.signal });
  const reason = new Error("external");
  controller.abort(reason);
  assert.equal(s.signal.aborted, true);
  assert.equal(s.signal.reason, reason);
  await dispose(s);
});

test("scope: an external signal aborts the scope even when a parent is set", async () => {
  const parent = scope();
  const controller = new AbortController();
  const s = scope({ parent, signal: controller.signal });
  const reason = new Error("external with parent");
  controller.abort(reason);
  assert.equal(s.signal.reason, reason);
  assert.equal(parent.signal.aborted, false);
  await dispose(parent);
});

test("scope: an already aborted external signal aborts the scope at creation", async () => {
  const reason = new Error("before");
  const s = scope({ signal: AbortSignal.abort(reason) });
  assert.equal(s.signal.reason, reason);
  const [err] = await s.task(() => 1);
  assert.equal(err, reason);
  await dispose(s);
});

test("scope: the external signal no longer affects a disposed scope", async () => {
  const controller = new AbortController();
  const s = scope({ signal: controller.signal });
  await dispose(s);
  const reason = s.signal.reason;
  controller.abort(new Error("too late"));
  assert.equal(s.signal.reason, reason);
});

test("scope: the timeout aborts the scope with a TimeoutError carrying the ms", async () => {
  const s = scope({ timeout: 10 });
  const t = s.task(({ signal }) => untilAborted(signal));
  const [err] = await alive(t);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.timeout, 10);
  assert.ok(s.signal.reason instanceof TimeoutError);
  assert.equal(s.signal.reason, err);
  await dispose(s);
});

test("scope: disposing before the timeout clears the timer (aborts with AbortError, not TimeoutError)", async () => {
  // Deno's sanitizer fails this test if the 30 ms timer outlives it.
  const s = scope({ timeout: 30 });
  await dispose(s);
  assert.ok(s.signal.reason instanceof AbortError);
  assert.ok(!(s.signal.reason instanceof TimeoutError));
});

test("scope: concurrency runs at most that many tasks at once, exactly", async () => {
  const s = scope({ concurrency: 2 });
  let running = 0;
  let max = 0;
  const tasks = Array.from({ length: 8 }, (_, i) =>
    s.task(async () => {
      running++;
      max = Math.max(max, running);
      await sleep(i % 3 === 0 ? 5 : 1);
      running--;
      return i;
    }));
  const results = await Promise.all(tasks);
  assert.equal(max, 2);
  assert.deepEqual(results.map((r) => r[1]), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("scope: concurrency keeps the limit after failures and cancellations", async () => {
  const s = scope({ concurrency: 2 });
  let running = 0;
  let max = 0;
  const tasks = Array.from({ length: 10 }, (_, i) =>
    s.task(async () => {
      running++;
      max = Math.max(max, running);
      try {
        await sleep(2);
        if (i % 2 === 0) throw new Error(`fail ${i}`);
        return i;
      } finally {
        running--;
      }
    }));
  tasks[5]!.cancel();
  await Promise.all(tasks);
  assert.equal(max, 2);
  await dispose(s);
});

test("scope: concurrency starts waiting tasks in FIFO order", async () => {
  const s = scope({ concurrency: 1 });
  const order: number[] = [];
  const tasks = [0, 1, 2, 3, 4].map((i) =>
    s.task(async () => {
      order.push(i);
      await tick();
    })
  );
  await Promise.all(tasks);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  await dispose(s);
});

test("scope: a queued task counts in taskCount and does not start until a slot frees", async () => {
  const s = scope({ concurrency: 1 });
  const gate = deferred();
  let secondStarted = false;
  const first = s.task(() => gate.promise);
  const second = s.task(() => {
    secondStarted = true;
  });
  assert.equal(s.taskCount, 2);
  await tick();
  assert.equal(secondStarted, false);
  gate.resolve();
  await first;
  await second;
  assert.equal(secondStarted, true);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("scope: a queued task is never started once its scope is disposed", async () => {
  const s = scope({ concurrency: 1 });
  const calls: string[] = [];
  const first = s.task(({ signal }) => untilAborted(signal));
  const second = s.task(() => {
    calls.push("second");
    return "second";
  });
  const third = s.task(async () => {
    calls.push("third");
    return "third";
  });
  await dispose(s);
  const results = await Promise.all([first, second, third]);
  assert.deepEqual(calls, []);
  for (const [err] of results) assert.ok(err instanceof AbortError);
});

test("scope: a circuitBreaker instance is shared by the scope and every descendant", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const root = scope({ circuitBreaker: breaker });
  const child = root.createChild();
  const grandchild = scope({ parent: child });
  assert.equal(root.circuitBreaker, breaker);
  assert.equal(child.circuitBreaker, breaker);
  assert.equal(grandchild.circuitBreaker, breaker);
  // failures in two different children trip the one breaker
  await child.task(() => Promise.reject(new Error("down")));
  await grandchild.task(() => Promise.reject(new Error("down")));
  assert.equal(breaker.state, "open");
  let called = false;
  const [err] = await root.createChild().task(() => {
    called = true;
  });
  assert.equal(called, false);
  assert.equal((err as { code?: string } | undefined)?.code, "GGS_ERR_CIRCUIT_OPEN");
  await dispose(root);
});

test("scope: circuitBreaker options create a new breaker for that scope, inherited by its children", async () => {
  const shared = new CircuitBreaker();
  const root = scope({ circuitBreaker: shared });
  const own = root.createChild({ circuitBreaker: { failureThreshold: 1 } });
  assert.ok(own.circuitBreaker instanceof CircuitBreaker);
  assert.notEqual(own.circuitBreaker, shared);
  assert.equal(own.createChild().circuitBreaker, own.circuitBreaker);
  await own.task(() => Promise.reject(new Error("x")));
  assert.equal(own.circuitBreaker?.state, "open");
  assert.equal(shared.state, "closed");
  assert.equal(shared.failureCount, 0);
  await dispose(root);
});

test("scope: without a circuitBreaker option there is none", async () => {
  const s = scope();
  assert.equal(s.circuitBreaker, undefined);
  assert.equal(s.createChild().circuitBreaker, undefined);
  await dispose(s);
});

test("scope: context is merged over the parent's and passed to tasks", async () => {
  const root = scope({ context: { a: 1, b: 1 } });
  const child = root.createChild({ context: { b: 2, c: 3 } });
  const bare = child.createChild();
  assert.deepEqual({ ...child.context }, { a: 1, b: 2, c: 3 });
  assert.deepEqual({ ...root.context }, { a: 1, b: 1 });
  assert.deepEqual({ ...bare.context }, { a: 1, b: 2, c: 3 });
  const [, seen] = await child.task(({ context }) => ({ ...context }));
  assert.deepEqual(seen, { a: 1, b: 2, c: 3 });
  await dispose(root);
});

test("scope: the context of a scope without one is empty", async () => {
  const s = scope();
  assert.deepEqual({ ...s.context }, {});
  await dispose(s);
});

test("scope: the logger is inherited from the parent and passed to tasks", async () => {
  const logger = recordingLogger();
  const root = scope({ logger });
  const child = root.createChild();
  assert.equal(child.logger, logger);
  const [, seen] = await child.task(({ logger: l }) => {
    l.info("hello");
    return l;
  });
  assert.equal(seen, logger);
  assert.deepEqual(logger.calls.map((c) => c.level), ["info"]);
  const other = recordingLogger();
  assert.equal(child.createChild({ logger: other }).logger, other);
  await dispose(root);
});

// ---------------------------------------------------------------- members

test("scope: the signal is created lazily and aborted with the reason", async () => {
  const s = scope();
  const reason = new Error("why");
  s.cancel(reason);
  // first read after the abort
  assert.equal(s.signal.aborted, true);
  assert.equal(s.signal.reason, reason);
  await dispose(s);
  assert.equal(s.signal.reason, reason);
});

test("scope: the signal read before the abort aborts with the reason", async () => {
  const s = scope();
  const signal = s.signal;
  const seen: unknown[] = [];
  signal.addEventListener("abort", () => seen.push(signal.reason));
  await dispose(s);
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof AbortError);
});

test("scope: cancel() without a reason aborts with an AbortError", async () => {
  const s = scope({ name: "c" });
  s.cancel();
  assert.ok(s.signal.reason instanceof AbortError);
  assert.equal(s.isDisposed, false);
  await dispose(s);
});

test("scope: isDisposed is false until disposal begins, then true", async () => {
  const s = scope();
  assert.equal(s.isDisposed, false);
  const p = dispose(s);
  assert.equal(s.isDisposed, true);
  await p;
  assert.equal(s.isDisposed, true);
});

test("scope: the scope is marked disposed before its signal's abort listeners run", async () => {
  const s = scope();
  let seen: boolean | undefined;
  s.signal.addEventListener("abort", () => {
    seen = s.isDisposed;
  });
  await dispose(s);
  assert.equal(seen, true);
});

test("scope: createChild() makes a child whose parent is this scope", async () => {
  const s = scope();
  const c = s.createChild({ name: "kid" });
  assert.equal(c.parent, s);
  assert.equal(c.name, "kid");
  assert.equal(s.childCount, 1);
  await dispose(s);
  assert.equal(c.isDisposed, true);
  assert.equal(s.childCount, 0);
});

test("scope: onDispose callbacks run last registered first, each awaited", async () => {
  const s = scope();
  const order: string[] = [];
  s.onDispose(() => {
    order.push("first");
  });
  s.onDispose(async () => {
    await sleep(5);
    order.push("second");
  });
  s.onDispose(() => {
    order.push("third");
  });
  await dispose(s);
  assert.deepEqual(order, ["third", "second", "first"]);
});

test("scope: onDispose callbacks run after the scope's tasks settled", async () => {
  const s = scope();
  const t = s.task(({ signal }) => untilAborted(signal));
  let settledAtCleanup: boolean | undefined;
  s.onDispose(() => {
    settledAtCleanup = t.isSettled;
  });
  await dispose(s);
  assert.equal(settledAtCleanup, true);
});

test("scope: a throwing cleanup does not stop the others and dispose rejects with its error", async () => {
  const s = scope();
  const ran: string[] = [];
  const boom = new Error("cleanup failed");
  s.onDispose(() => {
    ran.push("a");
  });
  s.onDispose(() => {
    throw boom;
  });
  s.onDispose(() => {
    ran.push("c");
  });
  await assert.rejects(dispose(s), (e) => e === boom);
  assert.deepEqual(ran, ["c", "a"]);
});

test("scope: several throwing cleanups reject dispose with an AggregateError of all of them", async () => {
  const s = scope();
  const e1 = new Error("one");
  const e2 = new Error("two");
  let ran = false;
  s.onDispose(() => Promise.reject(e1));
  s.onDispose(() => {
    ran = true;
  });
  s.onDispose(() => {
    throw e2;
  });
  await assert.rejects(dispose(s), (e) => {
    assert.ok(e instanceof AggregateError);
    assert.deepEqual(e.errors, [e2, e1]);
    return true;
  });
  assert.equal(ran, true);
});

test("scope: a child's failing cleanup makes the parent's dispose reject after all cleanups ran", async () => {
  const parent = scope();
  const child = parent.createChild();
  const boom = new Error("child cleanup");
  let parentCleanup = false;
  child.onDispose(() => {
    throw boom;
  });
  parent.onDispose(() => {
    parentCleanup = true;
  });
  await assert.rejects(dispose(parent), (e) => e === boom);
  assert.equal(parentCleanup, true);
  assert.equal(parent.childCount, 0);
});

test("scope: onDispose on a disposed scope runs the callback at once", async () => {
  const s = scope({ logger: recordingLogger() });
  await dispose(s);
  const d = deferred<string>();
  s.onDispose(() => d.resolve("ran"));
  assert.equal(await d.promise, "ran");
});

// ---------------------------------------------------------------- disposal

test("scope: dispose is idempotent and a second call returns the same promise", async () => {
  const s = scope();
  s.onDispose(() => sleep(1));
  const p1 = dispose(s);
  const p2 = dispose(s);
  assert.equal(p1, p2);
  await p1;
  assert.equal(dispose(s), p1);
});

test("scope: dispose aborts with an AbortError unless already aborted", async () => {
  const s = scope();
  await dispose(s);
  assert.ok(s.signal.reason instanceof AbortError);
  const t = scope();
  const reason = new Error("first");
  t.cancel(reason);
  await dispose(t);
  assert.equal(t.signal.reason, reason);
});

test("scope: dispose disposes live children, which abort with the same reason", async () => {
  const parent = scope();
  const child = parent.createChild();
  const task = child.task(({ signal }) => untilAborted(signal));
  await dispose(parent);
  assert.equal(child.isDisposed, true);
  assert.equal(child.signal.reason, parent.signal.reason);
  const [err] = await task;
  assert.equal(err, parent.signal.reason);
});

test("scope: dispose settles tasks whose function ignores the signal", async () => {
  const s = scope();
  const t = s.task(() => forever());
  await dispose(s);
  assert.equal(t.isSettled, true);
  const [err] = await t;
  assert.ok(err instanceof AbortError);
  assert.equal(s.taskCount, 0);
});

test("scope: a dispose re-entered from an abort listener still waits for every cleanup", async () => {
  const s = scope();
  let cleaned = false;
  s.onDispose(async () => {
    await sleep(10);
    cleaned = true;
  });
  const inner: Promise<void>[] = [];
  s.signal.addEventListener("abort", () => {
    inner.push(dispose(s));
  });
  const outer = dispose(s);
  await outer;
  assert.equal(cleaned, true);
  await Promise.all(inner);
  for (const p of inner) assert.equal(p, outer);
});

test("scope: 10,000 children created and disposed under one root leave childCount 0", async () => {
  const root = scope();
  const children: Scope[] = [];
  for (let i = 0; i < 10_000; i++) {
    const c = root.createChild();
    if (i % 3 === 0) c.task(() => i);
    children.push(c);
  }
  assert.equal(root.childCount, 10_000);
  await Promise.all(children.map(dispose));
  assert.equal(root.childCount, 0);
  assert.equal(root.signal.aborted, false);
  await dispose(root);
});

test("scope: 10,000 live children are all disposed with their root", async () => {
  const root = scope();
  const children: Scope[] = [];
  for (let i = 0; i < 10_000; i++) children.push(root.createChild());
  await dispose(root);
  assert.equal(root.childCount, 0);
  assert.ok(children.every((c) => c.isDisposed && c.signal.aborted));
});

test("scope: a scope timeout aborts its children and their tasks with the same TimeoutError", async () => {
  const s = scope({ timeout: 5 });
  const child = s.createChild();
  const t = child.task(({ signal }) => untilAborted(signal));
  const [err] = await alive(t);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err, s.signal.reason);
  assert.equal(child.signal.reason, s.signal.reason);
  await dispose(s);
});

test("scope: a channel of a child scope closes when the parent is disposed", async () => {
  const s = scope();
  const ch = s.createChild().channel<number>(1);
  await ch.send(1);
  await dispose(s);
  assert.equal(ch.isClosed, true);
});

test("scope: disposing a scope with a timeout and nothing else running clears its deadline", async () => {
  // Deno's sanitizer fails this test if the deadline's timer outlives it;
  // under Node the active-resource count shows it.
  const timers = () => process.getActiveResourcesInfo().filter((k) => k === "Timeout").length;
  const before = timers();
  const scopes = Array.from({ length: 5 }, () => scope({ timeout: 60_000 }));
  for (const s of scopes) await dispose(s);
  assert.equal(timers(), before);
});
