// CircuitBreaker's adaptive threshold (src/core/resilience/_adaptive_threshold.ts):
// `advanced: { adaptiveThreshold, minThreshold, maxThreshold, errorRateWindowMs }`
// and the thresholdAdapt event.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../../src/core/mod.ts";
import { sleep } from "../_helpers.ts";

const down = (): Promise<never> => Promise.reject(new Error("down"));
const up = (): string => "up";

async function fail(breaker: CircuitBreaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(down).catch(() => {});
}

test("circuit breaker: without advanced options the threshold is fixed and errorRate is 0", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  await fail(breaker, 2);
  assert.equal(breaker.failureThreshold, 3);
  assert.equal(breaker.errorRate, 0);
});

test("circuit breaker: the adaptive threshold falls with the error rate and emits thresholdAdapt", async () => {
  const adapted: [number, number][] = [];
  const hooked: [number, number][] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 5,
    advanced: {
      adaptiveThreshold: true,
      minThreshold: 2,
      maxThreshold: 10,
      errorRateWindowMs: 60000,
      onThresholdAdapt: (t, r) => hooked.push([t, r]),
    },
  });
  breaker.on("thresholdAdapt", (threshold, errorRate) => adapted.push([threshold, errorRate]));
  for (let i = 0; i < 4; i++) await breaker.execute(up);
  assert.equal(breaker.failureThreshold, 5, "fewer than 5 calls: failureThreshold applies");
  await breaker.execute(up);
  assert.deepEqual(adapted, [[10, 0]], "0% errors: maxThreshold");
  await fail(breaker, 2); // 2 of 7 failed: round(10 - (2/7) / 0.5 * 8) = 5
  assert.equal(breaker.failureThreshold, 5);
  assert.equal(breaker.currentState, "closed");
  await fail(breaker); // 3 of 8: 4
  assert.equal(breaker.failureThreshold, 4);
  assert.equal(breaker.currentState, "closed", "3 consecutive failures < 4");
  await fail(breaker); // 4 of 9: 3, and 4 consecutive failures open it
  assert.equal(breaker.failureThreshold, 3);
  assert.equal(breaker.currentState, "open");
  assert.equal(breaker.errorRate, 4 / 9);
  assert.deepEqual(adapted, [[10, 0], [7, 1 / 6], [5, 2 / 7], [4, 3 / 8], [3, 4 / 9]]);
  assert.deepEqual(hooked, adapted, "the option hook sees the same changes");
  for (let i = 1; i < adapted.length; i++) {
    assert.notEqual(adapted[i]![0], adapted[i - 1]![0], "emitted only when it changes");
  }
});

test("circuit breaker: a high error rate opens an adaptive breaker sooner than failureThreshold", async () => {
  const breaker = new CircuitBreaker({
    failureThreshold: 5,
    advanced: { adaptiveThreshold: true, minThreshold: 2, maxThreshold: 10 },
  });
  // Alternate so consecutive failures stay low while the error rate climbs.
  for (let i = 0; i < 4; i++) {
    await fail(breaker);
    await breaker.execute(up);
  }
  assert.equal(breaker.failureThreshold, 2, "50% errors");
  await fail(breaker);
  assert.equal(breaker.currentState, "closed");
  await fail(breaker);
  assert.equal(breaker.currentState, "open", "2 consecutive failures, not 5");
});

test("circuit breaker: outcomes older than errorRateWindowMs no longer count", async () => {
  const breaker = new CircuitBreaker({
    failureThreshold: 50,
    advanced: { adaptiveThreshold: true, errorRateWindowMs: 20 },
  });
  for (let i = 0; i < 5; i++) await fail(breaker);
  assert.equal(breaker.errorRate, 1);
  await sleep(40);
  assert.equal(breaker.errorRate, 0);
});

test("circuit breaker: aborts and non-failures are left out of the error rate", async () => {
  const breaker = new CircuitBreaker({ advanced: { adaptiveThreshold: true } });
  await breaker.execute(up);
  const aborted = new DOMException("gone", "AbortError");
  await breaker.execute(() => Promise.reject(aborted)).catch(() => {});
  await fail(breaker);
  assert.equal(breaker.errorRate, 0.5);
  const picky = new CircuitBreaker({
    isFailure: (e) => (e as Error).message !== "ignored",
    advanced: { adaptiveThreshold: true },
  });
  await picky.execute(up);
  await picky.execute(() => Promise.reject(new Error("ignored"))).catch(() => {});
  await fail(picky);
  assert.equal(picky.errorRate, 0.5);
});

test("circuit breaker: reset() clears the adaptive window", async () => {
  const breaker = new CircuitBreaker({ advanced: { adaptiveThreshold: true } });
  for (let i = 0; i < 5; i++) await breaker.execute(up);
  assert.equal(breaker.failureThreshold, 10);
  breaker.reset();
  assert.equal(breaker.failureThreshold, 5);
  assert.equal(breaker.errorRate, 0);
});

test("circuit breaker: bad advanced options and hooks are refused with a clear error", () => {
  const make = (options: unknown) => () => new CircuitBreaker(options as never);
  assert.throws(make({ advanced: 1 }), /"advanced" must be an object/);
  assert.throws(make({ advanced: { adaptive: true } }), /unknown option "adaptive"/);
  assert.throws(
    make({ advanced: { adaptiveThreshold: "yes" } }),
    /"advanced.adaptiveThreshold" must be a boolean/,
  );
  assert.throws(make({ advanced: { minThreshold: 0 } }), RangeError);
  assert.throws(
    make({ advanced: { minThreshold: 5, maxThreshold: 3 } }),
    /"advanced.maxThreshold" must be an integer >= 5/,
  );
  assert.throws(make({ advanced: { errorRateWindowMs: -1 } }), RangeError);
  assert.throws(
    make({ advanced: { onThresholdAdapt: 1 } }),
    /"advanced.onThresholdAdapt" must be a function/,
  );
  assert.throws(make({ onOpen: "x" }), /"onOpen" must be a function/);
  const breaker = new CircuitBreaker();
  assert.throws(() => breaker.once("opened" as never, () => {}), /"event" must be one of/);
  assert.throws(() => breaker.off("opened" as never, () => {}), /"event" must be one of/);
  assert.throws(() => breaker.once("open", 1 as never), /"handler" must be a function/);
});
