// race/any options: signal, requireSuccess, staggerDelay, staggerMaxConcurrent.
// (The basic rules of scope.race() and scope.any() are in parallel_test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope } from "../../../src/core/mod.ts";
import { countedSignal } from "../_listeners.ts";
import { dispose, sleep, untilAborted } from "../_helpers.ts";

test("race: requireSuccess skips failures and the first success decides", async () => {
  const s = scope();
  const [err, value] = await s.race<string>([
    () => {
      throw new Error("fast failure");
    },
    async () => {
      await sleep(5);
      return "slow success";
    },
  ], { requireSuccess: true });
  assert.equal(err, undefined);
  assert.equal(value, "slow success");
  await dispose(s);
});

test("race: requireSuccess with every factory failing is an AggregateError of all", async () => {
  const s = scope();
  const [err] = await s.race<number>([
    () => Promise.reject(new Error("a")),
    () => Promise.reject(new Error("b")),
  ], { requireSuccess: true });
  assert.ok(err instanceof AggregateError);
  assert.equal(err.message, "race: every task failed");
  assert.deepEqual(err.errors.map((e: Error) => e.message), ["a", "b"]);
  await dispose(s);
});

test("race: the signal fails the race with its reason and cancels the factories", async () => {
  const s = scope();
  const counted = countedSignal();
  let cancelled = 0;
  const pending = s.race([
    ({ signal }) => untilAborted(signal).catch(() => cancelled++),
    ({ signal }) => untilAborted(signal).catch(() => cancelled++),
  ], { signal: counted.signal });
  await sleep(0);
  const reason = new Error("caller gave up");
  counted.controller.abort(reason);
  const [err] = await pending;
  assert.equal(err, reason);
  assert.equal(cancelled, 2);
  assert.equal(counted.live, 0, "the listener on the signal is removed");
  await dispose(s);
});

test("race: a non-Error abort reason arrives as an AbortError carrying it", async () => {
  const s = scope();
  const [err] = await s.race([() => new Promise(() => {})], { signal: AbortSignal.abort("nope") });
  assert.ok(err instanceof AbortError);
  assert.equal(err.reason, "nope");
  await dispose(s);
});

test("race: an already aborted signal calls no factory", async () => {
  const s = scope();
  let calls = 0;
  const [err] = await s.race([() => calls++], { signal: AbortSignal.abort(new Error("x")) });
  assert.equal((err as Error).message, "x");
  assert.equal(calls, 0);
  await dispose(s);
});

test("race: the listener on a signal is removed once the race is decided", async () => {
  const s = scope();
  const counted = countedSignal();
  await s.race([() => 1], { signal: counted.signal });
  assert.equal(counted.live, 0);
  await dispose(s);
});

test("race: staggerDelay starts the next factory only if nothing decided within the delay", async () => {
  const s = scope();
  const started: number[] = [];
  const t0 = performance.now();
  const times: number[] = [];
  const [err, value] = await s.race([
    async ({ signal }) => {
      started.push(0);
      times.push(performance.now() - t0);
      await untilAborted(signal);
      return "first";
    },
    () => {
      started.push(1);
      times.push(performance.now() - t0);
      return "second";
    },
    () => {
      started.push(2);
      return "third";
    },
  ], { staggerDelay: 20 });
  assert.equal(err, undefined);
  assert.equal(value, "second");
  assert.deepEqual(started, [0, 1], "the third never started");
  assert.ok(times[1]! >= 15, `second started after ${times[1]} ms`);
  await dispose(s);
});

test("race: with staggerDelay a fast first factory means no other is ever called", async () => {
  const s = scope();
  let others = 0;
  const [, value] = await s.race<string | number>(
    [() => "primary", () => others++, () => others++],
    {
      staggerDelay: 10,
    },
  );
  assert.equal(value, "primary");
  await sleep(25);
  assert.equal(others, 0);
  await dispose(s);
});

test("race: staggerMaxConcurrent caps how many run at once", async () => {
  const s = scope();
  let running = 0;
  let peak = 0;
  let calls = 0;
  const slow = async ({ signal }: { signal: AbortSignal }) => {
    calls++;
    peak = Math.max(peak, ++running);
    try {
      await Promise.race([sleep(100), untilAborted(signal)]);
    } finally {
      running--;
    }
    return "done";
  };
  const [err] = await s.race([slow, slow, slow, slow, slow], {
    staggerDelay: 5,
    staggerMaxConcurrent: 2,
  });
  assert.equal(err, undefined);
  assert.equal(peak, 2);
  assert.equal(calls, 2);
  await dispose(s);
});

test("race: with requireSuccess and staggerDelay a failure starts the next at once", async () => {
  const s = scope();
  const t0 = performance.now();
  let thirdAt = -1;
  const [err, value] = await s.race<string>([
    () => Promise.reject(new Error("one")),
    () => Promise.reject(new Error("two")),
    () => {
      thirdAt = performance.now() - t0;
      return "three";
    },
  ], { staggerDelay: 1000, requireSuccess: true });
  assert.equal(err, undefined);
  assert.equal(value, "three");
  assert.ok(thirdAt < 500, `third started after ${thirdAt} ms, not after two delays`);
  await dispose(s);
});

test("race: the stagger timer is cleared when the race is decided (no timer left)", async () => {
  const s = scope();
  const [, value] = await s.race([async () => {
    await sleep(5);
    return "a";
  }, () => "b"], { staggerDelay: 30 });
  assert.equal(value, "a");
  await dispose(s);
  // Deno's sanitizer fails this test if the stagger timer was left pending.
});

test("any: accepts the stagger options too", async () => {
  const s = scope();
  const [err, value] = await s.any<string>([
    () => Promise.reject(new Error("down")),
    () => "backup",
  ], { staggerDelay: 50 });
  assert.equal(err, undefined);
  assert.equal(value, "backup");
  await dispose(s);
});

test("race: bad options are clear TypeErrors or RangeErrors", async () => {
  const s = scope();
  assert.throws(() => s.race([() => 1], { staggerDelay: -1 }), {
    name: "RangeError",
    message:
      'Cannot run race: "staggerDelay" must be a finite number of milliseconds >= 0, received -1',
  });
  assert.throws(() => s.race([() => 1], { staggerDelay: 5, staggerMaxConcurrent: 0 }), {
    name: "RangeError",
  });
  assert.throws(() => s.race([() => 1], { requireSuccess: 1 } as never), {
    name: "TypeError",
    message: 'Cannot run race: "requireSuccess" must be a boolean, received 1',
  });
  assert.throws(() => s.any([() => 1], { signal: "x" } as never), {
    name: "TypeError",
    message: 'Cannot run any: "signal" must be an AbortSignal, received "x"',
  });
  assert.throws(() => s.race([() => 1], { stagger: 5 } as never), {
    name: "TypeError",
    message: /unknown option "stagger"/,
  });
  await dispose(s);
});

test("race: concurrency starts only that many; with requireSuccess each failure starts the next", async () => {
  const s = scope();
  const started: number[] = [];
  const make = (i: number, ok: boolean) => async () => {
    started.push(i);
    await sleep(2);
    if (!ok) throw new Error(`fail ${i}`);
    return i;
  };
  const [err, value] = await s.race(
    [make(0, false), make(1, false), make(2, true), make(3, true)],
    {
      concurrency: 1,
      requireSuccess: true,
    },
  );
  assert.equal(err, undefined);
  assert.equal(value, 2);
  assert.deepEqual(started, [0, 1, 2]);
  assert.throws(() => s.race([() => 1], { concurrency: 0 }), { name: "RangeError" });
  await dispose(s);
});
