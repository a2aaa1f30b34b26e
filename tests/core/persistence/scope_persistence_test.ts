// The scope option `persistence`: explicit providers or an adapter, merged down the tree.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createCache,
  createIdempotencyProvider,
  InMemoryCheckpointProvider,
  InMemoryLockProvider,
  resolvePersistence,
  scope,
} from "../../../src/core/mod.ts";

test("persistence: a scope without the option has none", async () => {
  await using s = scope();
  assert.equal(s.persistence, undefined);
});

test("persistence: explicit providers are used and inherited by children", async () => {
  const lock = new InMemoryLockProvider();
  await using s = scope({ persistence: { lock } });
  const child = s.createChild().createChild();
  assert.equal(child.persistence?.lock, lock);
});

test("persistence: a child's own providers are merged over its parent's", async () => {
  const lock = new InMemoryLockProvider();
  const cache = createCache();
  await using s = scope({ persistence: { lock } });
  const child = s.createChild({ persistence: { cache } });
  assert.equal(child.persistence?.lock, lock);
  assert.equal(child.persistence?.cache, cache);
  assert.equal(s.persistence?.cache, undefined);
});

test("persistence: an adapter provides each feature whose methods it has, and idempotency by property", () => {
  const idempotency = createIdempotencyProvider();
  const checkpoints = new InMemoryCheckpointProvider();
  const adapter = Object.assign(new InMemoryLockProvider(), { idempotency });
  const p = resolvePersistence(adapter);
  assert.equal(p.lock, adapter);
  assert.equal(p.idempotency, idempotency);
  assert.equal(p.cache, undefined);
  assert.equal(resolvePersistence(checkpoints).checkpoint, checkpoints);
});

test("persistence: bad values throw, naming the option", () => {
  assert.throws(
    () => scope({ persistence: 5 as never }),
    /"persistence" must be an adapter or an object of providers/,
  );
  assert.throws(
    () => scope({ persistence: { lock: {} } as never }),
    /"persistence.lock" must have the method acquire \(a lock provider has acquire, extend, forceRelease\), received an object without it/,
  );
  assert.throws(() => scope({ persistence: {} }), /must provide at least one of/);
});

const fn = () => Promise.resolve(null);
/** An adapter class, so that messages name it. */
class PartialAdapter {
  constructor(methods: string[]) {
    for (const m of methods) Object.defineProperty(this, m, { value: fn });
  }
}
const lockOnly = ["acquire", "extend", "forceRelease"];

test("persistence: a provider missing a method is refused, naming the method", async (t) => {
  const cases: { name: string; persistence: unknown; message: RegExp }[] = [
    {
      name: "persistence.lock without forceRelease",
      persistence: { lock: { acquire: fn, extend: fn } },
      message:
        /^Cannot create scope: "persistence\.lock" must have the method forceRelease \(a lock provider has acquire, extend, forceRelease\), received an object without it$/,
    },
    {
      name: "an adapter with acquire but no extend",
      persistence: new PartialAdapter(["acquire", "forceRelease"]),
      message:
        /^Cannot create scope: "persistence\.lock" must have the method extend \(a lock provider has acquire, extend, forceRelease\), received an instance of PartialAdapter without it$/,
    },
    {
      name: "persistence.circuitBreaker without recordSuccess",
      persistence: { circuitBreaker: { getState: fn, setState: fn, recordFailure: fn } },
      message:
        /^Cannot create scope: "persistence\.circuitBreaker" must have the method recordSuccess \(a circuit-breaker state provider has getState, setState, recordFailure, recordSuccess\), received an object without it$/,
    },
    {
      name: "an adapter with recordFailure but no getState",
      persistence: new PartialAdapter([...lockOnly, "recordFailure", "recordSuccess", "setState"]),
      message:
        /^Cannot create scope: "persistence\.circuitBreaker" must have the method getState \(.*\), received an instance of PartialAdapter without it$/,
    },
    {
      name: "persistence.idempotency without delete",
      persistence: { idempotency: { get: fn, set: fn } },
      message:
        /^Cannot create scope: "persistence\.idempotency" must have the method delete \(an idempotency provider has get, set, delete\), received an object without it$/,
    },
    {
      name: "persistence.cache without keys",
      persistence: { cache: { get: fn, set: fn, delete: fn, has: fn, clear: fn } },
      message: /^Cannot create scope: "persistence\.cache" must have the method keys \(.*\)/,
    },
    {
      name: "an adapter with loadLatest but no cleanup",
      persistence: new PartialAdapter(["save", "loadLatest", "load", "list", "deleteAll"]),
      message:
        /^Cannot create scope: "persistence\.checkpoint" must have the method cleanup \(.*\), received an instance of PartialAdapter without it$/,
    },
    {
      name: "persistence.checkpoint that is not an object",
      persistence: { checkpoint: 5 },
      message:
        /^Cannot create scope: "persistence\.checkpoint" must have the methods save, loadLatest, load, list, cleanup, deleteAll, received 5$/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.throws(() => scope({ persistence: c.persistence as never }), (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.equal((err as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
        assert.match(err.message, c.message);
        return true;
      });
    });
  }
});

test("persistence: a keyed breaker over persistence that cannot hold breaker state is refused, naming the method", async (t) => {
  const cases: { name: string; persistence: unknown; message: RegExp }[] = [
    {
      name: "a lock-only adapter",
      persistence: new PartialAdapter(lockOnly),
      message:
        /^Cannot create scope: "persistence\.circuitBreaker" must have the method getState \(the keyed circuit breaker "payments" shares its state through it\), received an instance of PartialAdapter without it$/,
    },
    {
      name: "providers without circuitBreaker",
      persistence: { lock: new InMemoryLockProvider(), cache: createCache() },
      message:
        /^Cannot create scope: "persistence\.circuitBreaker" must have the method getState \(the keyed circuit breaker "payments" shares its state through it\), received an object without it$/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.throws(
        () => scope({ persistence: c.persistence as never, circuitBreaker: { key: "payments" } }),
        (err: Error) => {
          assert.ok(err instanceof TypeError);
          assert.match(err.message, c.message);
          return true;
        },
      );
    });
  }
  await t.test("without persistence, or without a key, the breaker stays in the process", async () => {
    await using a = scope({ circuitBreaker: { key: "payments" } });
    await using b = scope({
      persistence: new PartialAdapter(lockOnly) as never,
      circuitBreaker: {},
    });
    assert.equal(a.circuitBreaker?.key, "payments");
    assert.equal(b.circuitBreaker?.key, undefined);
  });
});
