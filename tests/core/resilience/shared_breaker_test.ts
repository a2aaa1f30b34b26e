// A keyed breaker sharing its state through a provider written for go-go-scope:
// recordFailure once per failure and one at a time, no setState, the state of
// other processes read when the provider cannot publish it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError, scope } from "../../../src/core/mod.ts";
import { recordingLogger, sleep } from "../_helpers.ts";
import { FakeGoGoScopeAdapter } from "../persistence/_fake_adapter.ts";

const down = () => Promise.reject(new Error("down"));
const up = () => Promise.resolve("ok");

/** Resolves once `check()` holds, polling every 10 ms; fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) assert.fail(`${what} within ${ms} ms`);
    await sleep(10);
  }
  return performance.now() - started;
}

test("shared breaker: each counted failure is one recordFailure(key, threshold), one at a time, none lost", async () => {
  const fake = new FakeGoGoScopeAdapter();
  fake.latency = 5; // its read-modify-write would lose counts if calls overlapped
  const breaker = new CircuitBreaker({
    key: "inventory",
    failureThreshold: 10,
    stateProvider: fake,
  });
  await Promise.all(Array.from({ length: 6 }, () => breaker.execute(down).catch(() => {})));
  await until(() => fake.states.get("inventory")?.failureCount === 6, 2_000, "6 failures stored");
  assert.equal(fake.count("recordFailure"), 6);
  assert.ok(
    fake.calls.filter((c) => c.startsWith("recordFailure:")).every((c) =>
      c === "recordFailure:inventory:10"
    ),
    "called with (key, threshold) only",
  );
  assert.equal(fake.maxConcurrentRecords, 1);
  assert.equal(fake.count("setState"), 0);
});

test("shared breaker: the failure that trips it is recorded like the others; the provider opens the state, no setState", async () => {
  const fake = new FakeGoGoScopeAdapter();
  const breaker = new CircuitBreaker({ key: "k", failureThreshold: 3, stateProvider: fake });
  for (let i = 0; i < 3; i++) await breaker.execute(down).catch(() => {});
  assert.equal(breaker.state, "open");
  await until(() => fake.states.get("k")?.state === "open", 1_000, "the provider's state open");
  assert.equal(fake.count("recordFailure"), 3);
  assert.equal(fake.count("setState"), 0);
});

test("shared breaker: a failure storm costs at most failureThreshold records", async () => {
  const fake = new FakeGoGoScopeAdapter();
  fake.latency = 20;
  const breaker = new CircuitBreaker({ key: "k", failureThreshold: 3, stateProvider: fake });
  await Promise.all(Array.from({ length: 50 }, () => breaker.execute(down).catch(() => {})));
  await until(() => fake.states.get("k")?.state === "open", 2_000, "the provider's state open");
  await sleep(100);
  assert.ok(fake.count("recordFailure") <= 4, `${fake.count("recordFailure")} records`);
});

test("shared breaker: a success after failures resets the provider once, after the failures", async () => {
  const fake = new FakeGoGoScopeAdapter();
  fake.latency = 5;
  const breaker = new CircuitBreaker({ key: "k", failureThreshold: 10, stateProvider: fake });
  await Promise.all([breaker.execute(down), breaker.execute(down)].map((p) => p.catch(() => {})));
  await breaker.execute(up);
  await breaker.execute(up);
  await until(() => fake.count("recordSuccess") === 1, 1_000, "one recordSuccess");
  await sleep(30);
  assert.deepEqual(fake.states.get("k")?.failureCount, 0, "the reset came last");
  assert.equal(fake.count("recordSuccess"), 1);
});

test("shared breaker: without subscribe, a running replica sees the open state when it is used", async () => {
  const fake = new FakeGoGoScopeAdapter();
  const a = new CircuitBreaker({
    key: "k",
    failureThreshold: 2,
    resetTimeout: 60_000,
    stateProvider: fake,
  });
  const b = new CircuitBreaker({
    key: "k",
    failureThreshold: 2,
    resetTimeout: 60_000,
    stateProvider: fake,
  });
  assert.equal(b.state, "closed");
  for (let i = 0; i < 2; i++) await a.execute(down).catch(() => {});
  await until(() => fake.states.get("k")?.state === "open", 1_000, "stored open");
  // B reads the provider when used, at most once a second.
  const took = await until(() => b.state === "open", 2_000, "B open");
  assert.ok(took < 1_500, `B learned within a second or so (${took.toFixed(0)} ms)`);
  let called = false;
  const err = await b.execute(() => {
    called = true;
    return up();
  }).catch((e) => e);
  assert.ok(err instanceof CircuitOpenError);
  assert.equal(called, false);
  const reads = fake.count("getState");
  await sleep(50);
  for (let i = 0; i < 100; i++) void b.state;
  assert.ok(fake.count("getState") - reads <= 1, "no read per call");
});

test("shared breaker: a replica started later starts open, for what is left of the open period", async () => {
  const fake = new FakeGoGoScopeAdapter();
  await fake.setState("k", { state: "open", failureCount: 5, lastFailureTime: Date.now() });
  const late = new CircuitBreaker({ key: "k", resetTimeout: 60_000, stateProvider: fake });
  await until(() => late.state === "open", 500, "open at start");
  await fake.setState("old", {
    state: "open",
    failureCount: 5,
    lastFailureTime: Date.now() - 61_000,
  });
  const after = new CircuitBreaker({ key: "old", resetTimeout: 60_000, stateProvider: fake });
  await sleep(20);
  assert.equal(after.state, "half-open", "its open period was over: a trial may go");
  assert.equal(await after.execute(up), "ok");
  assert.equal(after.state, "closed");
  await until(() => fake.states.get("old")?.state === "closed", 500, "the trial's success stored");
});

test("shared breaker: a scope's persistence adapter with connect() is connected before the breaker reads it", async () => {
  const fake = new FakeGoGoScopeAdapter();
  const getState = fake.getState.bind(fake);
  fake.getState = (key) => {
    assert.equal(fake.connected, true, "connected first");
    return getState(key);
  };
  await using s = scope({ persistence: fake, circuitBreaker: { key: "k", failureThreshold: 1 } });
  await s.task(down);
  await until(() => fake.states.get("k")?.state === "open", 1_000, "stored open");
  assert.equal(fake.connects, 1);
});

test("shared breaker: an unreachable provider is logged once and the breaker works on its own state", async () => {
  const fake = new FakeGoGoScopeAdapter();
  const fail = () => Promise.reject(new Error("connection lost"));
  fake.getState = fail;
  fake.recordFailure = fail;
  const logger = recordingLogger();
  await using s = scope({
    persistence: fake,
    logger,
    circuitBreaker: { key: "k", failureThreshold: 2 },
  });
  await s.task(down);
  await s.task(down);
  assert.equal(s.circuitBreaker?.state, "open");
  await sleep(20);
  const warnings = logger.calls.filter((c) => c.level === "warn");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.msg!, /shared circuit breaker state unavailable/);
});
