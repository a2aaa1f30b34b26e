// onAbort(), abortPromise() and whenAborted().
import { test } from "node:test";
import assert from "node:assert/strict";
import { abortPromise, onAbort, scope, whenAborted } from "../../../src/core/mod.ts";
import { countedSignal } from "../_listeners.ts";
import { dispose, tick } from "../_helpers.ts";

test("onAbort: the callback runs once, with the reason, when the signal aborts", () => {
  const counted = countedSignal();
  const seen: unknown[] = [];
  onAbort(counted.signal, (reason) => seen.push(reason));
  assert.equal(counted.live, 1);
  assert.deepEqual(seen, []);
  counted.controller.abort("why");
  counted.controller.abort("again");
  assert.deepEqual(seen, ["why"]);
  assert.equal(counted.live, 0);
});

test("onAbort: on an aborted signal the callback runs at once and nothing is registered", () => {
  const counted = countedSignal();
  counted.controller.abort("before");
  const seen: unknown[] = [];
  const d = onAbort(counted.signal, (reason) => seen.push(reason));
  assert.deepEqual(seen, ["before"]);
  assert.equal(counted.live, 0);
  d[Symbol.dispose]();
});

test("onAbort: disposing removes the listener, so a later abort calls nothing", () => {
  const counted = countedSignal();
  let called = false;
  {
    using _ = onAbort(counted.signal, () => called = true);
    assert.equal(counted.live, 1);
  }
  assert.equal(counted.live, 0);
  counted.controller.abort();
  assert.equal(called, false);
});

test("onAbort: the listener is removed after it ran, and disposing later is harmless", () => {
  const counted = countedSignal();
  let calls = 0;
  const d = onAbort(counted.signal, () => calls++);
  counted.controller.abort();
  assert.equal(counted.live, 0);
  d[Symbol.dispose]();
  d[Symbol.dispose]();
  assert.equal(calls, 1);
});

test("onAbort: works on a scope's signal", async () => {
  const s = scope();
  const seen: unknown[] = [];
  onAbort(s.signal, (reason) => seen.push(reason));
  const reason = new Error("stop");
  s.cancel(reason);
  assert.deepEqual(seen, [reason]);
  await dispose(s);
});

test("onAbort: bad input is a TypeError naming the argument", () => {
  assert.throws(
    () => onAbort({} as AbortSignal, () => {}),
    {
      name: "TypeError",
      message: 'Cannot watch signal: "signal" must be an AbortSignal, received an object',
    },
  );
  assert.throws(
    () => onAbort(new AbortController().signal, "x" as unknown as () => void),
    {
      name: "TypeError",
      message: 'Cannot watch signal: "callback" must be a function, received "x"',
    },
  );
});

test("abortPromise: rejects with the reason when the signal aborts", async () => {
  const controller = new AbortController();
  const p = abortPromise(controller.signal);
  const reason = new Error("cancelled");
  controller.abort(reason);
  await assert.rejects(p, (err) => err === reason);
});

test("abortPromise: rejects at once on an aborted signal", async () => {
  await assert.rejects(abortPromise(AbortSignal.abort("early")), (err) => err === "early");
});

test("abortPromise: never settles while the signal is not aborted", async () => {
  const controller = new AbortController();
  let settled = false;
  abortPromise(controller.signal).catch(() => settled = true);
  await tick();
  assert.equal(settled, false);
  controller.abort();
  await tick();
  assert.equal(settled, true);
});

test("whenAborted: resolves with the reason, at once if already aborted", async () => {
  const controller = new AbortController();
  const p = whenAborted(controller.signal);
  controller.abort("done");
  assert.equal(await p, "done");
  assert.equal(await whenAborted(AbortSignal.abort(42)), 42);
});

test("abortPromise and whenAborted: a listener that fired is gone", async () => {
  const counted = countedSignal();
  const a = abortPromise(counted.signal).catch((e) => e);
  const w = whenAborted(counted.signal);
  assert.equal(counted.live, 2);
  counted.controller.abort("x");
  assert.equal(counted.live, 0);
  assert.equal(await a, "x");
  assert.equal(await w, "x");
});

test("abortPromise and whenAborted: bad input is a TypeError", () => {
  assert.throws(() => abortPromise(null as unknown as AbortSignal), {
    name: "TypeError",
    message: 'Cannot wait for abort: "signal" must be an AbortSignal, received null',
  });
  assert.throws(() => whenAborted(1 as unknown as AbortSignal), { name: "TypeError" });
});
