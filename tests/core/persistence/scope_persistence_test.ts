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
    /"persistence.lock" must be an object with methods acquire, extend, forceRelease, received an object/,
  );
  assert.throws(() => scope({ persistence: {} }), /must provide at least one of/);
});
