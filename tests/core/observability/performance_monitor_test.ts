// PerformanceMonitor and performanceMonitor(scope).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PerformanceMonitor, performanceMonitor, scope } from "../../../src/core/mod.ts";
import { dispose, sleep, untilAborted } from "../_helpers.ts";
import { waitFor } from "../_wait.ts";

test("performanceMonitor: samples the scope every sampleInterval until stopped", async () => {
  const s = scope();
  const monitor = performanceMonitor(s, { sampleInterval: 5, trackMemory: false });
  assert.equal(monitor.running, true);
  await waitFor(() => monitor.getSnapshots().length >= 2);
  monitor.stop();
  const n = monitor.getSnapshots().length;
  assert.ok(n >= 2, `${n} snapshots`);
  await sleep(15);
  assert.equal(monitor.getSnapshots().length, n, "no snapshot after stop()");
  assert.equal(monitor.running, false);
  await dispose(s);
});

test("performanceMonitor: metrics count the scope's active tasks and children", async () => {
  const s = scope();
  const child = s.createChild();
  const t = s.task(({ signal }) => untilAborted(signal));
  using monitor = new PerformanceMonitor(s);
  const m = monitor.getMetrics();
  assert.equal(m.activeTaskCount, 1);
  assert.equal(m.childScopeCount, 1);
  assert.equal(m.taskCount, 0, "no metrics() on this scope: 0");
  assert.ok(m.scopeDuration >= 0);
  assert.ok(m.memoryUsage !== undefined && m.memoryUsage.used > 0, "heap figures in Deno and Node");
  await dispose(child);
  await dispose(s);
  await t;
});

test("performanceMonitor: disposing the scope stops it and leaves no timer", async () => {
  const s = scope();
  const monitor = performanceMonitor(s, { sampleInterval: 5 });
  await dispose(s);
  assert.equal(monitor.running, false);
  monitor.start();
  assert.equal(monitor.running, false, "it does not restart on an ended scope");
});

test("performanceMonitor: maxSnapshots keeps the newest; trends are stable when flat", async () => {
  const s = scope();
  using monitor = new PerformanceMonitor(s, { maxSnapshots: 3, trackMemory: false });
  assert.deepEqual(monitor.getTrends(), { taskRateTrend: "stable", durationTrend: "stable" });
  for (let i = 0; i < 5; i++) monitor.takeSnapshot();
  const snaps = monitor.getSnapshots();
  assert.equal(snaps.length, 3);
  assert.ok(snaps[0]!.timestamp <= snaps[2]!.timestamp);
  assert.deepEqual(monitor.getTrends(), { taskRateTrend: "stable", durationTrend: "stable" });
  await dispose(s);
});

test("performanceMonitor: bad input is a clear TypeError or RangeError", async () => {
  const s = scope();
  assert.throws(() => new PerformanceMonitor({} as never), { name: "TypeError" });
  assert.throws(() => new PerformanceMonitor(s, { sampleInterval: 0 }), {
    name: "RangeError",
    message:
      'Cannot create performance monitor: "sampleInterval" must be a finite number of milliseconds > 0, received 0',
  });
  assert.throws(() => new PerformanceMonitor(s, { trackMemory: 1 } as never), {
    name: "TypeError",
  });
  assert.throws(() => new PerformanceMonitor(s, { interval: 5 } as never), {
    message: /unknown option "interval"/,
  });
  await dispose(s);
});
