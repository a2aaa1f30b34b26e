// scope.batch: size flush, timeout flush, manual flush, stop, addMany,
// timed-flush failures logged, disposal stops and clears the timer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { dispose, recordingLogger, sleep } from "../_helpers.ts";

test("batch: filling the batch flushes it and add returns the Result", async () => {
  await using s = scope();
  const got: number[][] = [];
  const b = s.batch({ size: 2, process: (xs: number[]) => (got.push(xs), xs.length) });
  assert.equal(await b.add(1), undefined);
  assert.equal(b.size, 1);
  assert.deepEqual(await b.add(2), [undefined, 2]);
  assert.deepEqual(got, [[1, 2]]);
  assert.equal(b.size, 0);
});

test("batch: the timeout flushes a partial batch", async () => {
  await using s = scope();
  const got: number[][] = [];
  const b = s.batch({ size: 100, timeout: 5, process: (xs: number[]) => void got.push(xs) });
  await b.add(1);
  await b.add(2);
  await sleep(20);
  assert.deepEqual(got, [[1, 2]]);
});

test("batch: flush processes now; an empty flush is an error Result", async () => {
  await using s = scope();
  const b = s.batch({ process: async (xs: string[]) => xs.join("") });
  const [empty] = await b.flush();
  assert.equal(empty?.message, "Batch is empty");
  await b.add("a");
  await b.add("b");
  assert.deepEqual(await b.flush(), [undefined, "ab"]);
});

test("batch: addMany returns the Results of the flushes it caused", async () => {
  await using s = scope();
  const b = s.batch({ size: 2, process: (xs: number[]) => xs.reduce((a, x) => a + x, 0) });
  assert.deepEqual(await b.addMany([1, 2, 3, 4, 5]), [[undefined, 3], [undefined, 7]]);
  assert.deepEqual(await b.stop(), [undefined, 5]);
});

test("batch: stop flushes what waits, then add reports the batch stopped", async () => {
  await using s = scope();
  const b = s.batch({ timeout: 60_000, process: (xs: number[]) => xs });
  await b.add(7);
  assert.deepEqual(await b.stop(), [undefined, [7]]);
  assert.equal(b.isStopped, true);
  const [err] = (await b.add(8))!;
  assert.equal(err?.message, "Batch is stopped");
});

test("batch: a failing timed flush is logged on the scope's logger", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger });
  const b = s.batch({
    timeout: 1,
    process: () => {
      throw new Error("db down");
    },
  });
  await b.add(1);
  await sleep(15);
  const call = logger.calls.find((c) => c.msg === "batch process failed");
  assert.ok(call);
  assert.equal((call.obj as { err: Error }).err.message, "db down");
});

test("batch: disposing the scope stops the batch and clears its timer without processing", async () => {
  const s = scope();
  let processed = false;
  const b = s.batch({ timeout: 60_000, process: () => (processed = true) });
  await b.add(1);
  await dispose(s);
  assert.equal(b.isStopped, true);
  assert.equal(b.size, 0);
  assert.equal(processed, false);
});

test("batch: bad options throw naming the option", () => {
  const s = scope();
  assert.throws(() => s.batch({ size: 0, process: () => 1 }), {
    name: "RangeError",
    message: 'Cannot create batch: "size" must be an integer >= 1, received 0',
  });
  assert.throws(() => s.batch({} as never), { message: /"process" must be a function/ });
});
