// benchmark() and MemoryTracker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { benchmark, MemoryTracker } from "../../../src/core/mod.ts";

test("benchmark: warms up, then measures `iterations` calls and reports their timings", async () => {
  let calls = 0;
  const r = await benchmark("count", () => {
    calls++;
  }, { warmup: 3, iterations: 20 });
  assert.equal(calls, 23);
  assert.equal(r.name, "count");
  assert.equal(r.iterations, 20);
  assert.ok(r.minDuration <= r.avgDuration && r.avgDuration <= r.maxDuration);
  assert.ok(Math.abs(r.totalDuration - r.avgDuration * 20) < 1e-6);
  assert.ok(r.opsPerSecond > 0);
});

test("benchmark: awaits an async function on every call", async () => {
  let running = 0;
  let overlap = false;
  await benchmark("async", async () => {
    if (running++ > 0) overlap = true;
    await Promise.resolve();
    running--;
  }, { warmup: 0, iterations: 10 });
  assert.equal(overlap, false);
});

test("benchmark: stops early after 10 × minDuration ms", async () => {
  const r = await benchmark("slow", () => new Promise((resolve) => setTimeout(resolve, 2)), {
    warmup: 0,
    iterations: 1000,
    minDuration: 1,
  });
  assert.ok(r.iterations < 1000, `ran ${r.iterations} iterations`);
  assert.ok(r.iterations >= 1);
});

test("benchmark: bad input rejects with a clear TypeError or RangeError", async () => {
  await assert.rejects(benchmark(1 as never, () => {}), { name: "TypeError" });
  await assert.rejects(benchmark("x", () => {}, { iterations: 0 }), {
    name: "RangeError",
    message: 'Cannot run benchmark: "iterations" must be an integer >= 1, received 0',
  });
  await assert.rejects(benchmark("x", () => {}, { worker: true } as never), {
    name: "TypeError",
    message: /unknown option "worker"/,
  });
});

test("MemoryTracker: records heap snapshots, keeps at most maxSnapshots", () => {
  const tracker = new MemoryTracker(3);
  const first = tracker.snapshot();
  assert.ok(first > 0, "Deno and Node report the heap");
  for (let i = 0; i < 5; i++) tracker.snapshot();
  const snapshots = tracker.getSnapshots();
  assert.equal(snapshots.length, 3);
  assert.ok(snapshots[0]!.timestamp <= snapshots[2]!.timestamp);
  snapshots.length = 0;
  assert.equal(tracker.getSnapshots().length, 3, "getSnapshots() returns a copy");
});

test("MemoryTracker: checkForLeaks needs 5 snapshots; growth above the threshold is a leak", () => {
  const tracker = new MemoryTracker();
  assert.equal(tracker.checkForLeaks(), false);
  assert.equal(tracker.getGrowthRate(), 0);
  const keep: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    tracker.snapshot();
    keep.push(new Array(200_000).fill(i));
  }
  tracker.snapshot();
  assert.equal(tracker.checkForLeaks(-100), true, "any growth above -100% counts");
  assert.equal(tracker.checkForLeaks(1e9), false);
  assert.equal(typeof tracker.getGrowthRate(), "number");
  assert.ok(keep.length === 5);
});

test("MemoryTracker: bad input is a clear error", () => {
  assert.throws(() => new MemoryTracker(0), { name: "RangeError" });
  assert.throws(() => new MemoryTracker().checkForLeaks("5" as never), { name: "TypeError" });
});
