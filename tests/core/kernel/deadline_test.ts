// Deadlines and retry delays longer than a timer takes (2^31-1 ms), and the
// memory of many distinct deadline lengths (src/core/kernel/_deadline.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { scope, TimeoutError } from "../../../src/core/mod.ts";
import { deadlineListCount, limits } from "../../../src/core/kernel/_deadline.ts";
import { sleep } from "../_helpers.ts";

const DAY = 24 * 60 * 60 * 1000;

/** Runs `fn` while counting setTimeout calls and process warnings. */
async function watching<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; timers: number; warnings: string[] }> {
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  const original = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return original(...args);
  }) as typeof setTimeout;
  try {
    const value = await fn();
    await sleep(0); // a warning is emitted on the next tick
    return { value, timers, warnings };
  } finally {
    globalThis.setTimeout = original;
    process.off("warning", onWarning);
  }
}

/** Runs `fn` with timers capped at `ms` (to exercise re-arming with short delays). */
async function withMaxDelay<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const saved = limits.maxDelay;
  limits.maxDelay = ms;
  try {
    return await fn();
  } finally {
    limits.maxDelay = saved;
  }
}

test("deadline: a 30-day scope timeout arms one timer, warns nothing and does not abort early", async () => {
  const { value: s, timers, warnings } = await watching(async () => {
    const s = scope({ timeout: 30 * DAY });
    await sleep(50);
    return s;
  });
  assert.equal(s.isAborted, false, "not aborted early");
  assert.deepEqual(warnings, []);
  // The deadline's own timer plus the test's sleeps, no 1 ms re-arming loop.
  assert.ok(timers <= 3, `${timers} setTimeout calls in 50 ms`);
  await s[Symbol.asyncDispose]();
});

test("deadline: a 30-day task timeout lets the task finish", async () => {
  await using s = scope();
  const { value: result, warnings } = await watching(() =>
    Promise.resolve(s.task(async () => {
      await sleep(20);
      return "done";
    }, { timeout: 30 * DAY }))
  );
  assert.deepEqual(result, [undefined, "done"]);
  assert.deepEqual(warnings, []);
});

test("deadline: a deadline longer than one timer is re-armed until its real end", async () => {
  await withMaxDelay(15, async () => {
    const start = performance.now();
    await using s = scope({ timeout: 60 });
    const [err] = await s.task(({ signal }) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      )
    );
    const elapsed = performance.now() - start;
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(err.message, `Scope "${s.name}" exceeded its timeout of 60 ms`);
    assert.ok(elapsed >= 55, `aborted after ${elapsed.toFixed(1)} ms, before its 60 ms deadline`);
  });
});

test("deadline: a retry delay above 2^31-1 ms waits instead of retrying at once", async () => {
  await using s = scope();
  let attempts = 0;
  const { value: { task }, warnings } = await watching(async () => {
    const task = s.task(() => {
      attempts++;
      throw new Error("fails");
    }, { retry: { max: 1, delay: 2 ** 31 } });
    await sleep(30);
    return { task }; // wrapped: returning the task itself would await it
  });
  assert.equal(attempts, 1, "no second attempt yet");
  assert.deepEqual(warnings, []);
  task.cancel("give up");
  const [err] = await task;
  assert.match(String(err?.message), /give up/);
});

test("deadline: a long retry delay is slept in chunks until its real end", async () => {
  await withMaxDelay(10, async () => {
    await using s = scope();
    const times: number[] = [];
    const [err, value] = await s.task(() => {
      times.push(performance.now());
      if (times.length === 1) throw new Error("once");
      return "second";
    }, { retry: { max: 1, delay: 40 } });
    assert.equal(err, undefined);
    assert.equal(value, "second");
    const waited = times[1]! - times[0]!;
    assert.ok(waited >= 35, `retried after ${waited.toFixed(1)} ms instead of 40`);
  });
});

test("deadline: distinct timeout values leave no deadline list behind", async () => {
  const before = deadlineListCount();
  // One after the other: each value's list empties at once.
  for (let i = 0; i < 5000; i++) {
    await using s = scope({ timeout: 10_000 + i });
    await s.task(() => i, { timeout: 50_000 + i + 0.5 });
  }
  assert.ok(deadlineListCount() <= before + 40, `${deadlineListCount() - before} lists left`);
  // All alive at once, then all disposed.
  const scopes = Array.from({ length: 5000 }, (_, i) => scope({ timeout: 90_000 + i }));
  assert.ok(deadlineListCount() >= before + 5000);
  for (const s of scopes) await s[Symbol.asyncDispose]();
  assert.ok(deadlineListCount() <= before + 40, `${deadlineListCount() - before} lists left`);
});

test("deadline: deadlines that expire empty their lists too", async () => {
  const before = deadlineListCount();
  const scopes = Array.from({ length: 200 }, (_, i) => scope({ timeout: 1 + i / 1000 }));
  await sleep(20);
  assert.ok(scopes.every((s) => s.abortReason instanceof TimeoutError));
  for (const s of scopes) await s[Symbol.asyncDispose]();
  assert.ok(deadlineListCount() <= before + 40, `${deadlineListCount() - before} lists left`);
});

test("deadline: one timeout value reuses its list across scopes", async () => {
  const before = deadlineListCount();
  for (let i = 0; i < 100; i++) {
    await using _s = scope({ timeout: 123_456 });
  }
  assert.ok(deadlineListCount() <= before + 1);
});

test("deadline: deadlines started from an expiring deadline's callback keep the count exact", async () => {
  const before = deadlineListCount();
  // Each scope that times out starts the next one with the same timeout, from its abort
  // listener (inside the expiry); then many distinct values come and go.
  let chain = 0;
  const next = (): void => {
    const s = scope({ timeout: 1 });
    s.signal.addEventListener("abort", () => {
      void s[Symbol.asyncDispose]();
      if (++chain < 20) next();
    });
  };
  next();
  await new Promise<void>((resolve) => {
    const poll = (): void => void (chain >= 20 ? resolve() : setTimeout(poll, 2));
    poll();
  });
  for (let i = 0; i < 2000; i++) {
    await using _s = scope({ timeout: 70_000 + i });
  }
  assert.ok(deadlineListCount() <= before + 40, `${deadlineListCount() - before} lists left`);
});

test("deadline: every timeout's message says what exceeded its timeout, and how long it was", async () => {
  const never = ({ signal }: { signal: AbortSignal }) =>
    new Promise<never>((_resolve, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    );
  await using s = scope({ name: "owner" });
  const cases: [string, () => PromiseLike<readonly [unknown, unknown]>, string][] = [
    [
      "task",
      () => s.task(never, { name: "t", timeout: 5 }),
      'Task "t" exceeded its timeout of 5 ms',
    ],
    [
      "scope",
      () => scope({ name: "sc", timeout: 5 }).task(never),
      'Scope "sc" exceeded its timeout of 5 ms',
    ],
    [
      "parallel",
      () => s.parallel([never], { timeout: 5 }),
      "parallel exceeded its timeout of 5 ms",
    ],
    ["race", () => s.race([never], { timeout: 5 }), "race exceeded its timeout of 5 ms"],
    [
      "select",
      () => s.select(new Map([[s.channel<number>(), () => 1]]), { timeout: 5 }),
      "select exceeded its timeout of 5 ms",
    ],
  ];
  for (const [what, run, message] of cases) {
    const [err] = await run();
    assert.ok(err instanceof TimeoutError, what);
    // go-go-scope's users look for the word "timeout" in it.
    assert.equal(err.message, message, what);
    assert.equal(err.timeout, 5, what);
  }
});
