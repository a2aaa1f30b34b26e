// CircuitBreaker: thresholds, open/half-open/closed, what counts as a
// failure, events. One named test per rule of core_contract.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  CircuitBreaker,
  CircuitOpenError,
  scope,
  TimeoutError,
} from "../../../src/core/mod.ts";
import { alive, deferred, dispose, forever, sleep, untilAborted } from "../_helpers.ts";

const down = (): Promise<never> => Promise.reject(new Error("down"));
const up = (): string => "up";

async function fail(breaker: CircuitBreaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(down).catch(() => {});
}

test("circuit breaker: starts closed and passes values through", async () => {
  const breaker = new CircuitBreaker();
  assert.equal(breaker.state, "closed");
  assert.equal(await breaker.execute(up), "up");
  assert.equal(await breaker.execute(async () => 2), 2);
});

test("circuit breaker: failureThreshold consecutive failures open it", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  await fail(breaker, 2);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failureCount, 2);
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

test("circuit breaker: the default failureThreshold is 5", async () => {
  const breaker = new CircuitBreaker();
  await fail(breaker, 4);
  assert.equal(breaker.state, "closed");
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

test("circuit breaker: a success resets the consecutive failure count", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  await fail(breaker, 2);
  await breaker.execute(up);
  assert.equal(breaker.failureCount, 0);
  await fail(breaker, 2);
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: execute rethrows the function's error unchanged", async () => {
  const breaker = new CircuitBreaker();
  const boom = new Error("boom");
  await assert.rejects(breaker.execute(() => Promise.reject(boom)), (e) => e === boom);
});

test("circuit breaker: open rejects at once with CircuitOpenError (retryAfter) without calling fn", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1000 });
  await fail(breaker);
  let called = false;
  await assert.rejects(
    breaker.execute(() => {
      called = true;
    }),
    (e) => {
      assert.ok(e instanceof CircuitOpenError);
      assert.ok(e.retryAfter > 0 && e.retryAfter <= 1000, `retryAfter ${e.retryAfter}`);
      return true;
    },
  );
  assert.equal(called, false);
});

test("circuit breaker: rejections while open are not counted as failures", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  const failures: unknown[] = [];
  breaker.on("failure", (error) => failures.push(error));
  await fail(breaker);
  await fail(breaker, 3); // rejected while open
  assert.equal(failures.length, 1);
  await alive(sleep(15));
  assert.equal(breaker.state, "half-open");
  assert.equal(await breaker.execute(up), "up");
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: after resetTimeout it reads half-open and lets one trial through", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  await fail(breaker);
  assert.equal(breaker.state, "open");
  await sleep(15);
  assert.equal(breaker.state, "half-open");
  assert.equal(await breaker.execute(up), "up");
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: half-open admits a single trial under concurrency; the others are rejected", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  await fail(breaker);
  await sleep(15);
  const gate = deferred<string>();
  let calls = 0;
  const trial = breaker.execute(() => {
    calls++;
    return gate.promise;
  });
  const others = await Promise.allSettled([1, 2, 3].map(() =>
    breaker.execute(() => {
      calls++;
      return "x";
    })
  ));
  assert.equal(calls, 1);
  for (const o of others) {
    assert.equal(o.status, "rejected");
    assert.ok(o.status === "rejected" && o.reason instanceof CircuitOpenError);
  }
  gate.resolve("trial ok");
  assert.equal(await trial, "trial ok");
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: successThreshold trial successes close it", async () => {
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    resetTimeout: 10,
    successThreshold: 2,
  });
  await fail(breaker);
  await sleep(15);
  await breaker.execute(up);
  assert.equal(breaker.state, "half-open");
  await breaker.execute(up);
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: a trial failure opens it again for another resetTimeout", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 });
  await fail(breaker, 2);
  await sleep(15);
  assert.equal(breaker.state, "half-open");
  await fail(breaker); // the trial
  assert.equal(breaker.state, "open");
  await assert.rejects(breaker.execute(up), CircuitOpenError);
});

test("circuit breaker: a call admitted while closed does not count as the half-open trial", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  const slow = deferred<string>();
  const stale = breaker.execute(() => slow.promise); // admitted while closed
  await fail(breaker); // opens
  await sleep(15);
  const trialGate = deferred<string>();
  const trial = breaker.execute(() => trialGate.promise); // the one trial
  slow.resolve("stale ok");
  await stale;
  // the stale success must neither close the breaker nor free the trial slot
  assert.equal(breaker.state, "half-open");
  await assert.rejects(breaker.execute(up), CircuitOpenError);
  trialGate.resolve("trial ok");
  await trial;
  assert.equal(breaker.state, "closed");
});

test("circuit breaker: aborts do not count as failures", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  await breaker.execute(() => Promise.reject(new AbortError("client left"))).catch(() => {});
  await breaker.execute(() => AbortSignal.abort().throwIfAborted()).catch(() => {});
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failureCount, 0);
});

test("circuit breaker: a task cancelled by its scope mid-call is not counted", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  const s = scope({ circuitBreaker: breaker });
  const t = s.task(({ signal }) => untilAborted(signal));
  await dispose(s);
  const [err] = await t;
  assert.ok(err instanceof AbortError);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failureCount, 0);
});

test("circuit breaker: a cancelled trial is not counted and frees the trial slot", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  await fail(breaker);
  await sleep(15);
  const s = scope({ circuitBreaker: breaker });
  const trial = s.task(({ signal }) => untilAborted(signal));
  trial.cancel();
  const [err] = await trial;
  assert.ok(err instanceof AbortError);
  assert.equal(breaker.state, "half-open");
  assert.deepEqual(await s.task(up), [undefined, "up"]);
  assert.equal(breaker.state, "closed");
  await dispose(s);
});

test("circuit breaker: a TimeoutError counts as a failure (thrown or a task timeout)", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  await breaker.execute(() => Promise.reject(new TimeoutError("slow", 5))).catch(() => {});
  assert.equal(breaker.failureCount, 1);
  const s = scope({ circuitBreaker: breaker });
  const [err] = await alive(s.task(() => forever(), { timeout: 5 }));
  assert.ok(err instanceof TimeoutError);
  assert.equal(breaker.state, "open");
  await dispose(s);
});

test("circuit breaker: isFailure decides what counts", async () => {
  class NotFound extends Error {}
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    isFailure: (e) => !(e instanceof NotFound),
  });
  await breaker.execute(() => Promise.reject(new NotFound("404"))).catch(() => {});
  assert.equal(breaker.state, "closed");
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

test("circuit breaker: execute with an aborted signal does not call fn", async () => {
  const breaker = new CircuitBreaker();
  let called = false;
  const reason = new Error("gone");
  await assert.rejects(
    breaker.execute(() => {
      called = true;
    }, AbortSignal.abort(reason)),
    (e) => e === reason,
  );
  assert.equal(called, false);
  assert.equal(breaker.failureCount, 0);
});

test("circuit breaker: events describe every transition and outcome, with go-go-scope's arguments", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  const events: unknown[][] = [];
  for (
    const e of ["stateChange", "open", "halfOpen", "close", "success", "failure", "reject"] as const
  ) {
    breaker.on(e, (...args: unknown[]) => events.push([e, ...args]));
  }
  await breaker.execute(up);
  await fail(breaker);
  await fail(breaker); // rejected
  await sleep(15);
  void breaker.state; // open -> half-open
  await breaker.execute(up);
  const shown = events.map((e) => e.map((a) => a instanceof Error ? a.constructor.name : a));
  assert.deepEqual(shown, [
    ["success"],
    ["failure", "Error"],
    ["stateChange", "closed", "open", 1],
    ["open", 1],
    ["reject", "CircuitOpenError"],
    ["stateChange", "open", "half-open", 1],
    ["halfOpen"],
    ["success"],
    ["stateChange", "half-open", "closed", 0],
    ["close"],
  ]);
  assert.equal((events[1]![1] as Error).message, "down");
});

test("circuit breaker: on() returns an unsubscribe function", async () => {
  const breaker = new CircuitBreaker();
  let n = 0;
  const off = breaker.on("success", () => n++);
  await breaker.execute(up);
  off();
  await breaker.execute(up);
  assert.equal(n, 1);
});

test("circuit breaker: a throwing event handler never breaks the breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  let later = 0;
  breaker.on("failure", () => {
    throw new Error("handler broke (expected in this test)");
  });
  breaker.on("failure", () => later++);
  await assert.rejects(breaker.execute(down), /down/);
  assert.equal(later, 1);
  assert.equal(breaker.state, "open");
});

test("circuit breaker: reset() closes it and clears its counters", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const closes: string[] = [];
  breaker.on("close", () => closes.push(breaker.state));
  await fail(breaker, 2);
  assert.equal(breaker.state, "open");
  breaker.reset();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.failureCount, 0);
  assert.deepEqual(closes, ["closed"]);
  assert.equal(await breaker.execute(up), "up");
  await fail(breaker);
  assert.equal(breaker.state, "closed");
});
