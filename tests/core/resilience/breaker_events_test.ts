// CircuitBreaker, go-go-scope's surface (src/core/resilience/_breaker_events.ts and the
// breaker's use of it): currentState, on/off/once with the documented
// arguments, option hooks, [Symbol.asyncDispose], the exact open message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError } from "../../../src/core/mod.ts";
import { deferred, sleep } from "../_helpers.ts";

const down = (): Promise<never> => Promise.reject(new Error("down"));
const up = (): string => "up";

async function fail(breaker: CircuitBreaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(down).catch(() => {});
}

test("circuit breaker: an open breaker's error message is exactly 'Circuit breaker is open'", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 1000 });
  await fail(breaker);
  const err = await breaker.execute(up).catch((e) => e);
  assert.ok(err instanceof CircuitOpenError);
  assert.equal(err.message, "Circuit breaker is open");
  assert.ok(err.retryAfter > 0 && err.retryAfter <= 1000, "the wait stays in retryAfter");
});

test("circuit breaker: a call refused while the half-open trial runs has the same message", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 10 });
  await fail(breaker);
  await sleep(15);
  const gate = deferred<string>();
  const trial = breaker.execute(() => gate.promise);
  const err = await breaker.execute(up).catch((e) => e);
  assert.ok(err instanceof CircuitOpenError);
  assert.equal(err.message, "Circuit breaker is open");
  assert.equal(err.retryAfter, 0);
  gate.resolve("ok");
  assert.equal(await trial, "ok");
});

test("circuit breaker: currentState reads like state, including open -> half-open", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 });
  assert.equal(breaker.currentState, "closed");
  await fail(breaker, 2);
  assert.equal(breaker.currentState, "open");
  await sleep(15);
  assert.equal(breaker.currentState, "half-open");
  await breaker.execute(up);
  assert.equal(breaker.currentState, "closed");
});

test("circuit breaker: stateChange gets (from, to, failureCount); open gets (failureCount)", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10 });
  const changes: unknown[] = [];
  const opens: number[] = [];
  breaker.on("stateChange", (from, to, failureCount) => changes.push([from, to, failureCount]));
  breaker.on("open", (failureCount) => opens.push(failureCount));
  await fail(breaker, 2);
  assert.deepEqual(changes, [["closed", "open", 2]]);
  assert.deepEqual(opens, [2]);
  await sleep(15);
  await fail(breaker); // the trial fails
  assert.deepEqual(changes.slice(1), [["open", "half-open", 2], ["half-open", "open", 1]]);
  assert.deepEqual(opens, [2, 1]);
});

test("circuit breaker: off() removes a handler given to on()", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  let opened = 0;
  const handler = (): void => {
    opened++;
  };
  breaker.on("open", handler);
  breaker.off("open", handler);
  await fail(breaker);
  assert.equal(opened, 0);
  assert.equal(breaker.state, "open");
});

test("circuit breaker: once() fires a single time, and off() cancels it before it fires", async () => {
  const breaker = new CircuitBreaker();
  let n = 0;
  breaker.once("success", () => n++);
  await breaker.execute(up);
  await breaker.execute(up);
  assert.equal(n, 1);
  let m = 0;
  const handler = (): void => {
    m++;
  };
  breaker.once("success", handler);
  breaker.off("success", handler);
  await breaker.execute(up);
  assert.equal(m, 0);
});

test("circuit breaker: every handler of an event is called, in subscription order", async () => {
  const breaker = new CircuitBreaker();
  const calls: string[] = [];
  breaker.on("success", () => calls.push("a"));
  breaker.once("success", () => calls.push("b"));
  breaker.on("success", () => calls.push("c"));
  await breaker.execute(up);
  await breaker.execute(up);
  assert.deepEqual(calls, ["a", "b", "c", "a", "c"]);
});

test("circuit breaker: option hooks are called with the events' arguments", async () => {
  const seen: unknown[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 1,
    resetTimeout: 10,
    onStateChange: (from, to, n) => seen.push(["stateChange", from, to, n]),
    onOpen: (n) => seen.push(["open", n]),
    onHalfOpen: () => seen.push(["halfOpen"]),
    onClose: () => seen.push(["close"]),
  });
  await fail(breaker);
  await sleep(15);
  await breaker.execute(up);
  assert.deepEqual(seen, [
    ["stateChange", "closed", "open", 1],
    ["open", 1],
    ["stateChange", "open", "half-open", 1],
    ["halfOpen"],
    ["stateChange", "half-open", "closed", 0],
    ["close"],
  ]);
});

test("circuit breaker: a throwing once() handler is still removed and never breaks the breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  let calls = 0;
  breaker.once("open", () => {
    calls++;
    throw new Error("handler broke (expected in this test)");
  });
  const original = console.error;
  console.error = () => {};
  try {
    await fail(breaker);
    breaker.reset();
    await fail(breaker);
  } finally {
    console.error = original;
  }
  assert.equal(calls, 1);
  assert.equal(breaker.currentState, "open");
});

test("circuit breaker: [Symbol.asyncDispose] removes every handler and resets it silently", async () => {
  let hooked = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, onStateChange: () => hooked++ });
  let events = 0;
  breaker.on("success", () => events++);
  breaker.on("close", () => events++);
  await fail(breaker);
  assert.equal(hooked, 1);
  {
    await using _b = breaker;
  }
  assert.equal(breaker.currentState, "closed");
  assert.equal(breaker.failureCount, 0);
  await breaker.execute(up);
  await fail(breaker);
  assert.equal(events, 0, "no handler is left");
  assert.equal(hooked, 1, "the option hook went too");
});
