// scope.every(intervalMs, fn).
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { dispose, recordingLogger, sleep, untilAborted } from "../_helpers.ts";
import { waitFor } from "../_wait.ts";

test("every: runs at once, then again after each interval, until stopped", async () => {
  const s = scope();
  let runs = 0;
  const stop = s.every(10, () => {
    runs++;
  });
  await Promise.resolve();
  assert.equal(runs, 1, "the first run starts at once");
  await waitFor(() => runs >= 2);
  stop();
  const seen = runs;
  await sleep(30);
  assert.equal(runs, seen, "no run after stop()");
  await dispose(s);
});

test("every: the function gets the task context with a live signal", async () => {
  const s = scope({ context: { id: 3 } });
  let ctx: { signal: AbortSignal; context: Readonly<Record<string, unknown>> } | undefined;
  const stop = s.every(10, (c) => {
    ctx = c;
  });
  await sleep(0);
  stop();
  assert.ok(ctx?.signal instanceof AbortSignal);
  assert.equal(ctx.signal.aborted, false);
  assert.equal(ctx.context.id, 3);
  await dispose(s);
});

test("every: stops when the scope is disposed; no timer is left", async () => {
  const s = scope();
  let runs = 0;
  s.every(10, () => {
    runs++;
  });
  await sleep(25);
  await dispose(s);
  const seen = runs;
  await sleep(30);
  assert.equal(runs, seen);
  // Deno's sanitizer fails this test if a timer was left pending.
});

test("every: stops when the scope is cancelled, and disposal aborts and awaits a run in flight", async () => {
  const s = scope();
  let aborted = false;
  s.every(10, async ({ signal }) => {
    await untilAborted(signal).catch(() => aborted = true);
  });
  await sleep(0);
  assert.equal(s.taskCount, 1);
  await dispose(s);
  assert.equal(aborted, true);
  assert.equal(s.taskCount, 0);
});

test("every: a failing run is logged and the next run still happens", async () => {
  const logger = recordingLogger();
  const s = scope({ logger, name: "ticker" });
  let runs = 0;
  const stop = s.every(5, () => {
    runs++;
    if (runs <= 2) throw new Error(`boom ${runs}`);
  });
  await waitFor(() => runs >= 3);
  stop();
  const errors = logger.calls.filter((c) => c.level === "error");
  assert.equal(errors.length, 2);
  assert.match(errors[0]!.msg ?? "", /every\(\): a run failed/);
  const logged = errors[0]!.obj as { err: Error; scope: string };
  assert.equal(logged.scope, "ticker");
  assert.match(logged.err.message, /boom 1/);
  await dispose(s);
});

test("every: stop() is idempotent and on an aborted scope nothing runs", async () => {
  const s = scope();
  s.cancel();
  let runs = 0;
  const stop = s.every(5, () => {
    runs++;
  });
  stop();
  stop();
  await sleep(15);
  assert.equal(runs, 0);
  await dispose(s);
});

test("every: a cancellation by disposal is not logged as a failure", async () => {
  const logger = recordingLogger();
  const s = scope({ logger });
  s.every(5, ({ signal }) => untilAborted(signal));
  await sleep(0);
  await dispose(s);
  assert.deepEqual(logger.calls.filter((c) => c.level === "error"), []);
});

test("every: bad input is a clear TypeError or RangeError", async () => {
  const s = scope();
  assert.throws(() => s.every(0, () => {}), {
    name: "RangeError",
    message:
      'Cannot run every: "intervalMs" must be a finite number of milliseconds > 0, received 0',
  });
  assert.throws(() => s.every("5" as unknown as number, () => {}), { name: "TypeError" });
  assert.throws(() => s.every(5, null as unknown as () => void), {
    name: "TypeError",
    message: 'Cannot run every: "fn" must be a function, received null',
  });
  await dispose(s);
});

test("every: a failing run whose log is slow to write does not push the next run back", async () => {
  const starts: number[] = [];
  const busy = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* a console's first write */ }
  };
  const logger = { ...recordingLogger(), error: () => busy(80) };
  const s = scope({ logger });
  const stop = s.every(100, () => {
    starts.push(performance.now());
    throw new Error("fails");
  });
  await waitFor(() => starts.length >= 2, 2000);
  stop();
  const gap = starts[1]! - starts[0]!;
  // The next run is due 100 ms after the failing one ended, whatever the log costs (80 ms here).
  assert.ok(gap < 160, `the next run started ${gap.toFixed(0)} ms later`);
  await dispose(s);
});
