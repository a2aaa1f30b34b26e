// The task `retry` option: presets, the object form, and what is never
// retried. Counts are checked with `{ delay: 1 }`; the presets' delays with
// real timers and lower bounds only.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  CircuitBreaker,
  CircuitOpenError,
  type RetryOption,
  type Scope,
  scope,
  TimeoutError,
} from "../../../src/core/mod.ts";
import { alive, dispose, recordingLogger, sleep } from "../_helpers.ts";

/** Runs an always-failing task with `retry` and returns the attempt times (ms since start). */
async function attemptTimes(s: Scope, retry: RetryOption): Promise<number[]> {
  const start = performance.now();
  const times: number[] = [];
  const [err] = await alive(s.task(() => {
    times.push(performance.now() - start);
    throw new Error("always");
  }, { retry }));
  assert.equal(err?.message, "always");
  return times;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

test("retry: presets make 4 attempts; exponential waits 100/200/400, linear 100/200/300, fixed 100", async () => {
  const s = scope();
  const [exp, lin, fix, dflt] = await alive(Promise.all([
    attemptTimes(s, "exponential"),
    attemptTimes(s, "linear"),
    attemptTimes(s, "fixed"),
    attemptTimes(s, { max: 1 }), // object form: default delay exponential from 100 ms
  ]));
  assert.equal(exp.length, 4);
  assert.equal(lin.length, 4);
  assert.equal(fix.length, 4);
  assert.equal(dflt.length, 2);
  const slack = 5; // timers may fire a little early
  gaps(exp).forEach((g, i) =>
    assert.ok(g >= [100, 200, 400][i]! - slack, `exponential gap ${i}: ${g}`)
  );
  gaps(lin).forEach((g, i) => assert.ok(g >= [100, 200, 300][i]! - slack, `linear gap ${i}: ${g}`));
  gaps(fix).forEach((g, i) => assert.ok(g >= 100 - slack, `fixed gap ${i}: ${g}`));
  assert.ok(gaps(dflt)[0]! >= 100 - slack);
  // the three ran side by side, so their totals are ordered: 300 < 600 < 700 ms
  assert.ok(fix[3]! < lin[3]!, `fixed ${fix[3]} < linear ${lin[3]}`);
  assert.ok(lin[3]! < exp[3]!, `linear ${lin[3]} < exponential ${exp[3]}`);
  await dispose(s);
});

test("retry: a task that succeeds on a later attempt resolves its value", async () => {
  const s = scope();
  let attempts = 0;
  const result = await alive(s.task(() => {
    if (++attempts < 3) throw new Error(`fail ${attempts}`);
    return "third time";
  }, { retry: { delay: 1 } }));
  assert.deepEqual(result, [undefined, "third time"]);
  assert.equal(attempts, 3);
  await dispose(s);
});

test("retry: the object form defaults to 3 retries (4 attempts) and fails with the last error", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    throw new Error(`fail ${++attempts}`);
  }, { retry: { delay: 1 } }));
  assert.equal(attempts, 4);
  assert.equal(err?.message, "fail 4");
  await dispose(s);
});

test("retry: max sets the number of retries", async () => {
  const s = scope();
  for (const max of [0, 1, 5]) {
    let attempts = 0;
    await alive(s.task(() => {
      attempts++;
      throw new Error("x");
    }, { retry: { max, delay: 0 } }));
    assert.equal(attempts, max + 1, `max ${max}`);
  }
  await dispose(s);
});

test("retry: maxRetries is an alias of max", async () => {
  const s = scope();
  let attempts = 0;
  await alive(s.task(() => {
    attempts++;
    throw new Error("x");
  }, { retry: { maxRetries: 2, delay: 1 } }));
  assert.equal(attempts, 3);
  await dispose(s);
});

test("retry: a delay function gets the 1-based retry number and the error", async () => {
  const s = scope();
  const seen: [number, string][] = [];
  let attempts = 0;
  await alive(s.task(() => {
    throw new Error(`e${++attempts}`);
  }, {
    retry: {
      max: 3,
      delay: (attempt, error) => {
        seen.push([attempt, error.message]);
        return 1;
      },
    },
  }));
  assert.deepEqual(seen, [[1, "e1"], [2, "e2"], [3, "e3"]]);
  await dispose(s);
});

test("retry: if(error) decides which errors are retried", async () => {
  class Permanent extends Error {}
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw attempts < 2 ? new Error("transient") : new Permanent("permanent");
  }, { retry: { max: 10, delay: 1, if: (e) => !(e instanceof Permanent) } }));
  assert.equal(attempts, 2);
  assert.ok(err instanceof Permanent);
  await dispose(s);
});

test("retry: retryCondition is an alias of if", async () => {
  const s = scope();
  let attempts = 0;
  await alive(s.task(() => {
    attempts++;
    throw new Error("no");
  }, { retry: { max: 10, delay: 1, retryCondition: () => false } }));
  assert.equal(attempts, 1);
  await dispose(s);
});

test("retry: onRetry(error, attempt) observes each retry before it happens", async () => {
  const s = scope();
  const events: string[] = [];
  let attempts = 0;
  await alive(s.task(() => {
    attempts++;
    events.push(`attempt ${attempts}`);
    throw new Error(`e${attempts}`);
  }, {
    retry: {
      max: 2,
      delay: 1,
      onRetry: (error, attempt) => events.push(`onRetry ${attempt} ${error.message}`),
    },
  }));
  assert.deepEqual(events, ["attempt 1", "onRetry 1 e1", "attempt 2", "onRetry 2 e2", "attempt 3"]);
  await dispose(s);
});

test("retry: a throwing onRetry is logged and the retry still happens", async () => {
  const logger = recordingLogger();
  const s = scope({ logger });
  let attempts = 0;
  await alive(s.task(() => {
    attempts++;
    throw new Error("x");
  }, {
    retry: {
      max: 1,
      delay: 1,
      onRetry: () => {
        throw new Error("observer broke");
      },
    },
  }));
  assert.equal(attempts, 2);
  assert.ok(logger.calls.some((c) => c.level === "error"));
  await dispose(s);
});

test("retry: a throwing if() stops retrying and is logged", async () => {
  const logger = recordingLogger();
  const s = scope({ logger });
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new Error("original");
  }, {
    retry: {
      max: 3,
      delay: 1,
      if: () => {
        throw new Error("condition broke");
      },
    },
  }));
  assert.equal(attempts, 1);
  assert.equal(err?.message, "original");
  assert.ok(logger.calls.some((c) => c.level === "error"));
  await dispose(s);
});

test("retry: a delay function returning a bad value fails the task with a RangeError", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new Error("x");
  }, { retry: { max: 3, delay: () => -1 } }));
  assert.equal(attempts, 1);
  assert.ok(err instanceof RangeError);
  assert.match(err.message, /retry\.delay/);
  await dispose(s);
});

test("retry: a delay function that throws fails the task with what it threw, wrapped like its failures", async () => {
  class JobError extends Error {}
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new Error("x");
  }, {
    errorClass: JobError,
    retry: {
      max: 3,
      delay: () => {
        throw new Error("no delay");
      },
    },
  }));
  assert.equal(attempts, 1);
  assert.ok(err instanceof JobError);
  assert.equal((err.cause as Error).message, "no delay");
  await dispose(s);
});

test("retry: a bad delay's RangeError is not wrapped by errorClass", async () => {
  class JobError extends Error {}
  const s = scope();
  const [err] = await alive(s.task(() => {
    throw new Error("x");
  }, { errorClass: JobError, retry: { max: 3, delay: () => Number.NaN } }));
  assert.ok(err instanceof RangeError);
  assert.match(err.message, /"retry\.delay" returned NaN/);
  await dispose(s);
});

test("retry: an AbortError thrown by the function is never retried", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new AbortError("gave up");
  }, { retry: { max: 5, delay: 1 } }));
  assert.equal(attempts, 1);
  assert.ok(err instanceof AbortError);
  await dispose(s);
});

test("retry: a DOMException AbortError (signal.throwIfAborted) is never retried", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    AbortSignal.abort().throwIfAborted();
  }, { retry: { max: 5, delay: 1 } }));
  assert.equal(attempts, 1);
  assert.equal(err?.name, "AbortError");
  await dispose(s);
});

test("retry: a TimeoutError thrown by the function is never retried", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new TimeoutError("downstream deadline", 10);
  }, { retry: { max: 5, delay: 1 } }));
  assert.equal(attempts, 1);
  assert.ok(err instanceof TimeoutError);
  await dispose(s);
});

test("retry: a CircuitOpenError is never retried", async () => {
  const s = scope();
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new CircuitOpenError(1000);
  }, { retry: { max: 5, delay: 1 } }));
  assert.equal(attempts, 1);
  assert.ok(err instanceof CircuitOpenError);
  await dispose(s);
});

test("retry: cancelling during a retry delay settles at once and makes no further attempt", async () => {
  const s = scope();
  let attempts = 0;
  const t = s.task(() => {
    attempts++;
    throw new Error("x");
  }, { retry: { max: 5, delay: 30 } });
  await sleep(5);
  assert.equal(attempts, 1);
  const reason = new Error("stop retrying");
  t.cancel(reason);
  assert.equal(t.isSettled, true);
  const [err] = await t;
  assert.equal(err, reason);
  await sleep(40);
  assert.equal(attempts, 1);
  await dispose(s);
});

test("retry: disposing the scope during a retry delay stops the retries", async () => {
  const s = scope();
  let attempts = 0;
  const t = s.task(() => {
    attempts++;
    throw new Error("x");
  }, { retry: { max: 5, delay: 30 } });
  await sleep(5);
  await dispose(s);
  const [err] = await t;
  assert.ok(err instanceof AbortError);
  assert.equal(attempts, 1);
});

test("retry: a breaker that opens stops the retries", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const s = scope({ circuitBreaker: breaker });
  let attempts = 0;
  const [err] = await alive(s.task(() => {
    attempts++;
    throw new Error("down");
  }, { retry: { max: 10, delay: 1 } }));
  assert.equal(attempts, 2);
  assert.ok(err instanceof CircuitOpenError);
  assert.equal(breaker.state, "open");
  await dispose(s);
});

test("retry: every attempt goes through the breaker (a retried success resets its count)", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  const s = scope({ circuitBreaker: breaker });
  let attempts = 0;
  const result = await alive(s.task(() => {
    if (++attempts < 3) throw new Error("flaky");
    return "ok";
  }, { retry: { max: 5, delay: 1 } }));
  assert.deepEqual(result, [undefined, "ok"]);
  assert.equal(breaker.failureCount, 0);
  assert.equal(breaker.state, "closed");
  await dispose(s);
});

// Keep this test last in the file: when it fails, the runtime finds an idle event loop and
// Node cancels whatever tests of the file are still to run.
test("retry: a pending retry delay keeps the event loop alive until the next attempt", async () => {
  // No helper timer here: a user script that awaits a retried task has
  // nothing else keeping the runtime alive while the task waits to retry.
  const s = scope();
  let attempts = 0;
  const [err, value] = await s.task(() => {
    if (++attempts < 2) throw new Error("flaky");
    return "ok";
  }, { retry: { max: 1, delay: 5 } });
  assert.equal(err, undefined);
  assert.equal(value, "ok");
  await dispose(s);
});
