// The scope option idempotency: { defaultTTL }: the ttl of idempotent tasks
// that give none, inherited by children, replaced by a child's own option.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InMemoryIdempotencyProvider, scope } from "../../../src/core/mod.ts";

/** An in-memory provider that records the ttl of every result it stores. */
class RecordingProvider extends InMemoryIdempotencyProvider {
  readonly ttls: (number | undefined)[] = [];
  override set<T>(key: string, value: T, ttl?: number): Promise<void> {
    this.ttls.push(ttl);
    return super.set(key, value, ttl);
  }
}

test("scope idempotency: defaultTTL applies to tasks without a ttl; a task's ttl wins", async () => {
  const provider = new RecordingProvider();
  await using s = scope({
    persistence: { idempotency: provider },
    idempotency: { defaultTTL: 50 },
  });
  await s.task(() => 1, { idempotency: { key: "a" } });
  await s.task(() => 2, { idempotency: { key: "b", ttl: 5000 } });
  assert.deepEqual(provider.ttls, [50, 5000]);
});

test("scope idempotency: a result stored with the default TTL expires after it", async () => {
  const provider = new InMemoryIdempotencyProvider();
  await using s = scope({
    persistence: { idempotency: provider },
    idempotency: { defaultTTL: 20 },
  });
  let runs = 0;
  const run = () => s.task(() => ++runs, { idempotency: { key: "k" } });
  assert.deepEqual(await run(), [undefined, 1]);
  assert.deepEqual(await run(), [undefined, 1]);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(await run(), [undefined, 2]);
});

test("scope idempotency: children inherit the option; a child's own replaces it", async () => {
  const provider = new RecordingProvider();
  await using root = scope({
    persistence: { idempotency: provider },
    idempotency: { defaultTTL: 1000 },
  });
  const child = root.createChild();
  const grandchild = scope({ parent: child });
  const own = root.createChild({ idempotency: {} });
  assert.deepEqual(child.idempotency, { defaultTTL: 1000 });
  assert.deepEqual(grandchild.idempotency, { defaultTTL: 1000 });
  assert.deepEqual(own.idempotency, {});
  await grandchild.task(() => 1, { idempotency: { key: "g" } });
  await own.task(() => 1, { idempotency: { key: "o" } });
  assert.deepEqual(provider.ttls, [1000, undefined]);
  await using plain = scope();
  assert.equal(plain.idempotency, undefined);
});

test("scope idempotency: a bad option throws naming it", () => {
  const cases: [unknown, RegExp][] = [
    [5, /"idempotency" must be an object/],
    [{ defaultTTL: 0 }, /"idempotency.defaultTTL" must be a finite number of milliseconds > 0/],
    [{ ttl: 5 }, /"idempotency": unknown option "ttl"/],
  ];
  for (const [idempotency, message] of cases) {
    assert.throws(() => scope({ idempotency: idempotency as never }), { message });
  }
});
