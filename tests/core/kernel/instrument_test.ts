// The core's instrumentation hook (kernel/_instrument.ts, set through
// internal.ts): asked once per task that runs its own function, inherited by
// child scopes, told of each retry and of the outcome (ok, error, cancelled,
// timeout) with the abort reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope, TimeoutError } from "../../../src/core/mod.ts";
import {
  childScope,
  instrumentOf,
  instrumentScope,
  type TaskInstrument,
  type TaskOutcome,
} from "../../../src/core/internal.ts";
import { forever } from "../_helpers.ts";

interface Seen {
  name: string;
  scope: string;
  options: unknown;
  runs: number;
  retries: [number, string, number][];
  end?: [TaskOutcome, string | undefined, unknown];
}

function recorder(): { instrument: TaskInstrument; seen: Seen[]; inside: string[] } {
  const seen: Seen[] = [];
  const inside: string[] = [];
  const instrument: TaskInstrument = {
    start(task, s, _fn, options) {
      const record: Seen = { name: task.name, scope: s.name, options, runs: 0, retries: [] };
      seen.push(record);
      return {
        run(fn, arg) {
          record.runs++;
          inside.push(task.name);
          try {
            return fn(arg);
          } finally {
            inside.pop();
          }
        },
        retry(attempt, error, delayMs) {
          record.retries.push([attempt, error.message, delayMs]);
        },
        end(outcome, error, reason) {
          record.end = [outcome, error?.message, reason];
        },
      };
    },
  };
  return { instrument, seen, inside };
}

test("instrument: a task's function runs inside the probe; ok ends it once", async () => {
  await using s = scope({ name: "s" });
  const { instrument, seen, inside } = recorder();
  instrumentScope(s, instrument);
  assert.equal(instrumentOf(s), instrument);
  let during: string[] = [];
  const [err, value] = await s.task(() => {
    during = [...inside];
    return 42;
  }, { name: "answer" });
  assert.equal(err, undefined);
  assert.equal(value, 42);
  assert.deepEqual(during, ["answer"]);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.scope, "s");
  assert.deepEqual(seen[0]!.options, { name: "answer" });
  assert.deepEqual(seen[0]!.end, ["ok", undefined, undefined]);
});

test("instrument: a failure ends it as error; retries are told with their delay", async () => {
  await using s = scope();
  const { instrument, seen } = recorder();
  instrumentScope(s, instrument);
  let calls = 0;
  const [err] = await s.task(() => {
    calls++;
    throw new Error(`boom ${calls}`);
  }, { retry: { maxRetries: 2, delay: 1 } });
  assert.equal(err?.message, "boom 3");
  assert.equal(seen[0]!.runs, 3);
  assert.deepEqual(seen[0]!.retries, [[1, "boom 1", 1], [2, "boom 2", 1]]);
  assert.equal(seen[0]!.end?.[0], "error");
  assert.equal(seen[0]!.end?.[1], "boom 3");
});

test("instrument: a cancelled task ends as cancelled, a timed-out one as timeout, with the reason", async () => {
  await using s = scope();
  const { instrument, seen } = recorder();
  instrumentScope(s, instrument);
  const t = s.task(() => forever(), { name: "cancelled" });
  const reason = new AbortError("gone");
  t.cancel(reason);
  await t;
  await s.task(() => forever(), { name: "slow", timeout: 5 });
  assert.equal(seen[0]!.end?.[0], "cancelled");
  assert.equal(seen[0]!.end?.[2], reason);
  assert.equal(seen[1]!.end?.[0], "timeout");
  assert.ok(seen[1]!.end?.[2] instanceof TimeoutError);
});

test("instrument: inherited by child scopes (public and internal doors); absent elsewhere", async () => {
  await using root = scope({ name: "root" });
  await using other = scope({ name: "other" });
  const { instrument, seen } = recorder();
  instrumentScope(root, instrument);
  await using child = root.createChild({ name: "child" });
  const fast = childScope(root, {
    name: "fast",
    logger: root.logger,
    context: {},
    timeout: undefined,
    concurrency: undefined,
    circuitBreaker: undefined,
  });
  await child.task(() => 1);
  await fast.task(() => 2);
  await other.task(() => 3);
  assert.deepEqual(seen.map((r) => r.scope), ["child", "fast"]);
  assert.equal(instrumentOf(other), undefined);
  await fast[Symbol.asyncDispose]();
});

test("instrument: a start that returns undefined leaves the task as it was", async () => {
  await using s = scope();
  instrumentScope(s, { start: () => undefined });
  assert.deepEqual(await s.task(() => "plain"), [undefined, "plain"]);
});

test("instrument: dedupe followers are not probed (only the task that runs)", async () => {
  await using s = scope();
  const { instrument, seen } = recorder();
  instrumentScope(s, instrument);
  const a = s.task(() => new Promise((r) => setTimeout(() => r("one"), 5)), { dedupe: "k" });
  const b = s.task(() => "two", { dedupe: "k" });
  assert.deepEqual(await b, [undefined, "one"]);
  await a;
  assert.equal(seen.length, 1);
});
