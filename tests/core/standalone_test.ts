// parallel() and race() without a scope.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parallel, race, TimeoutError } from "../../src/core/mod.ts";
import { countedSignal } from "./_listeners.ts";
import { alive, sleep, untilAborted } from "./_helpers.ts";

test("parallel (standalone): [undefined, values] in input order, typed per position", async () => {
  const [err, values] = await parallel([async () => {
    await sleep(5);
    return 1;
  }, () => "two"]);
  if (err) assert.fail(err);
  const n: number = values[0];
  const s: string = values[1];
  assert.equal(n, 1);
  assert.equal(s, "two");
});

test("parallel (standalone): the first failure fails fast and the others are aborted", async () => {
  let aborted = false;
  const [err, values] = await parallel([
    ({ signal }) => untilAborted(signal).catch(() => aborted = true),
    () => Promise.reject(new Error("broken")),
  ]);
  assert.equal((err as Error).message, "broken");
  assert.equal(values, undefined);
  assert.equal(aborted, true);
});

test("parallel (standalone): continueOnError gives each factory's Result", async () => {
  const [err, results] = await parallel([() => 1, () => Promise.reject(new Error("no"))], {
    continueOnError: true,
  });
  assert.equal(err, undefined);
  assert.deepEqual(results[0], [undefined, 1]);
  assert.equal((results[1][0] as Error).message, "no");
});

test("parallel (standalone): the signal cancels the group with its reason", async () => {
  const counted = countedSignal();
  let aborted = 0;
  const pending = parallel([
    ({ signal }) => untilAborted(signal).catch(() => aborted++),
    ({ signal }) => untilAborted(signal).catch(() => aborted++),
  ], { signal: counted.signal });
  await sleep(0);
  const reason = new Error("stop");
  counted.controller.abort(reason);
  const [err] = await pending;
  assert.equal(err, reason);
  assert.equal(aborted, 2);
  assert.equal(counted.live, 0);
});

test("parallel (standalone): the timeout fails with a TimeoutError; concurrency is respected", async () => {
  const [err] = await alive(parallel([() => new Promise(() => {})], { timeout: 10 }));
  assert.ok(err instanceof TimeoutError);
  let running = 0;
  let peak = 0;
  const job = async () => {
    peak = Math.max(peak, ++running);
    await sleep(2);
    running--;
  };
  await parallel([job, job, job, job], { concurrency: 2 });
  assert.equal(peak, 2);
});

test("race (standalone): the first to settle wins and the losers are aborted", async () => {
  let loserAborted = false;
  const [err, value] = await race([
    ({ signal }) => untilAborted<string>(signal).catch(() => (loserAborted = true, "x")),
    async () => {
      await sleep(2);
      return "fast";
    },
  ]);
  assert.equal(err, undefined);
  assert.equal(value, "fast");
  assert.equal(loserAborted, true);
});

test("race (standalone): staggerDelay and requireSuccess work without a scope", async () => {
  const [err, value] = await race<string>([
    () => Promise.reject(new Error("primary down")),
    () => "replica",
  ], { staggerDelay: 10, requireSuccess: true });
  assert.equal(err, undefined);
  assert.equal(value, "replica");
});

test("race (standalone): the signal aborts it; bad input throws at once", async () => {
  const [err] = await race([() => new Promise(() => {})], {
    signal: AbortSignal.abort(new Error("gone")),
  });
  assert.equal((err as Error).message, "gone");
  assert.throws(() => race("x" as never), { name: "TypeError" });
  assert.throws(() => parallel([1] as never), {
    name: "TypeError",
    message: 'Cannot run parallel: "factories[0]" must be a function, received 1',
  });
});
