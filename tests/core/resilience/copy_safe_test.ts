// A breaker's getters read on a copy (as test frameworks copy objects to
// print or compare them) answer undefined instead of throwing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../../src/core/mod.ts";

const GETTERS = [
  "key",
  "resetTimeout",
  "state",
  "currentState",
  "failureCount",
  "failureThreshold",
  "errorRate",
] as const;

test("copy-safe getters: a copy of a breaker reads undefined, an instance its values", () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 1000, key: "db" });
  // What a test framework's deep clone makes: the prototype, the own properties.
  const copy = Object.create(CircuitBreaker.prototype, Object.getOwnPropertyDescriptors(breaker));
  const want: Record<(typeof GETTERS)[number], unknown> = {
    key: "db",
    resetTimeout: 1000,
    state: "closed",
    currentState: "closed",
    failureCount: 0,
    failureThreshold: 3,
    errorRate: 0,
  };
  for (const name of GETTERS) {
    assert.equal(copy[name], undefined, `${name} on a copy`);
    assert.equal(breaker[name], want[name], `${name} on the instance`);
  }
});

test("copy-safe getters: a failed comparison with a breaker reports the difference", () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, resetTimeout: 1000 });
  assert.throws(
    () => assert.deepEqual(breaker, { failureThreshold: 3, resetTimeout: 1000 }),
    assert.AssertionError,
  );
});
