// MemoryMonitor and the memoryLimit option: readings, limits parsed, pressure
// callbacks, setMemoryLimit, the interval cleared on dispose, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  getMemoryUsage,
  isMemoryMonitoringAvailable,
  MemoryMonitor,
  type MemoryUsage,
  scope,
} from "../../../src/core/mod.ts";
import { dispose } from "../_helpers.ts";
import { waitFor } from "../_wait.ts";

test("memory: this runtime exposes heap figures", () => {
  assert.equal(isMemoryMonitoringAvailable(), true);
  const u = getMemoryUsage();
  assert.ok(u.used > 0 && u.total >= u.used);
});

test("memory: limits accept bytes and unit strings", () => {
  using a = new MemoryMonitor({ limit: "100mb", checkInterval: 60_000 });
  using b = new MemoryMonitor({ limit: 1.5 * 1024, checkInterval: 60_000 });
  assert.equal(a.getLimit(), 100 * 1024 * 1024);
  assert.equal(b.getLimit(), 1536);
});

test("memory: a tiny limit calls onPressure at once with isOverLimit", async () => {
  const seen: MemoryUsage[] = [];
  const s = scope({ memoryLimit: 1024, onMemoryPressure: (u) => seen.push(u) });
  assert.equal(s.isMemoryMonitoringEnabled, true);
  assert.equal(s.memoryLimit, 1024);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.isOverLimit, true);
  assert.equal(seen[0]!.limit, 1024);
  await dispose(s); // the sanitizer fails the test if the interval survived
});

test("memory: setMemoryLimit changes the limit; without memoryLimit it throws", async () => {
  const s = scope({ memoryLimit: { limit: "1gb", checkInterval: 60_000 } });
  s.setMemoryLimit("2gb");
  assert.equal(s.memoryLimit, 2 * 1024 ** 3);
  assert.equal(s.memoryUsage()!.isOverLimit, false);
  await dispose(s);
  await using plain = scope();
  assert.equal(plain.isMemoryMonitoringEnabled, false);
  assert.ok(plain.memoryUsage()!.used > 0);
  // go-go-scope's wording ("Memory monitoring not enabled"), which users match on.
  assert.throws(() => plain.setMemoryLimit(1), {
    message:
      "Cannot set memory limit: Memory monitoring not enabled (create the scope with the memoryLimit option)",
  });
});

test("memory: bad limits throw naming the option", () => {
  assert.throws(() => scope({ memoryLimit: "lots" }), {
    name: "RangeError",
    message:
      /Cannot create scope: "memoryLimit" must be a number of bytes > 0 or a string such as "100mb".*received "lots"/,
  });
  assert.throws(() => new MemoryMonitor({ limit: "invalid" }), {
    name: "RangeError",
    message:
      'Cannot monitor memory: "limit" must be a number of bytes > 0 or a string such as "100mb" (b, kb, mb, gb, tb), received "invalid" (Invalid memory limit format)',
  });
  for (const pressureThreshold of [-1, 120, NaN]) {
    assert.throws(() => new MemoryMonitor({ limit: 1, pressureThreshold }), {
      message: new RegExp(
        `"pressureThreshold" must be a percentage from 0 to 100, received ${pressureThreshold}`,
      ),
    });
  }
  assert.throws(() => scope({ onMemoryPressure: () => {} }), {
    message: /"onMemoryPressure" must be used with memoryLimit/,
  });
});

test("memory: pressureThreshold 0 reports pressure on every check", async () => {
  const seen: number[] = [];
  const monitor = new MemoryMonitor({
    limit: "1tb",
    checkInterval: 10,
    pressureThreshold: 0,
    onPressure: (usage) => void seen.push(usage.percentageUsed),
  });
  try {
    await waitFor(() => seen.length > 0, 2000);
    assert.ok(seen[0]! < 1, "far under the limit, still reported");
  } finally {
    monitor[Symbol.dispose]();
  }
});
