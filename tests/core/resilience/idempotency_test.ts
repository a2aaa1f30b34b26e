// Task option idempotency and InMemoryIdempotencyProvider.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createIdempotencyProvider,
  type IdempotencyProvider,
  InMemoryIdempotencyProvider,
  scope,
} from "../../../src/core/mod.ts";
import { recordingLogger, sleep } from "../_helpers.ts";

test("idempotency: a second task with the same key returns the stored value without running", async () => {
  const idempotency = createIdempotencyProvider();
  await using s = scope({ persistence: { idempotency } });
  let runs = 0;
  const charge = () =>
    s.task(() => ({ charged: ++runs }), { idempotency: { key: "o1", ttl: 1_000 } });
  assert.deepEqual(await charge(), [undefined, { charged: 1 }]);
  assert.deepEqual(await charge(), [undefined, { charged: 1 }]);
  assert.equal(runs, 1);
  // Stored as go-go-scope stores it: the task's successful Result.
  assert.deepEqual((await idempotency.get("o1"))?.value, [undefined, { charged: 1 }]);
});

test("idempotency: failures are not stored, so the next task runs", async () => {
  await using s = scope({ persistence: { idempotency: new InMemoryIdempotencyProvider() } });
  let runs = 0;
  const t = () =>
    s.task(() => {
      if (++runs === 1) throw new Error("boom");
      return runs;
    }, { idempotency: { key: "k" } });
  const [err] = await t();
  assert.equal(err?.message, "boom");
  assert.deepEqual(await t(), [undefined, 2]);
});

test("idempotency: the stored result expires after ttl", async () => {
  await using s = scope({ persistence: { idempotency: createIdempotencyProvider() } });
  let runs = 0;
  const t = () => s.task(() => ++runs, { idempotency: { key: "k", ttl: 20 } });
  await t();
  await sleep(30);
  assert.deepEqual(await t(), [undefined, 2]);
});

test("idempotency: concurrent tasks with one key share one run", async () => {
  await using s = scope({ persistence: { idempotency: createIdempotencyProvider() } });
  let runs = 0;
  const results = await Promise.all(
    Array.from({ length: 5 }, () =>
      s.task(async () => {
        await sleep(5);
        return ++runs;
      }, { idempotency: { key: () => "computed" } })),
  );
  assert.equal(runs, 1);
  for (const r of results) assert.deepEqual(r, [undefined, 1]);
});

test("idempotency: without persistence a process-wide in-memory store is used", async () => {
  const key = `default-${Math.random()}`;
  let runs = 0;
  {
    await using a = scope();
    await a.task(() => ++runs, { idempotency: { key } });
  }
  await using b = scope();
  assert.deepEqual(await b.task(() => ++runs, { idempotency: { key } }), [undefined, 1]);
});

test("idempotency: a failing provider is logged and the task runs anyway", async () => {
  const logger = recordingLogger();
  const broken: IdempotencyProvider = {
    get: () => Promise.reject(new Error("store down")),
    set: () => Promise.reject(new Error("store down")),
    delete: () => Promise.resolve(),
  };
  await using s = scope({ logger, persistence: { idempotency: broken } });
  assert.deepEqual(await s.task(() => 7, { idempotency: { key: "k" } }), [undefined, 7]);
  assert.equal(logger.calls.filter((c) => c.level === "error").length, 2);
});

test("idempotency: bad options throw at once, naming the option", async () => {
  await using s = scope();
  assert.throws(
    () => s.task(() => 1, { idempotency: { key: "" } }),
    /"idempotency.key" must be a non-empty string/,
  );
  assert.throws(
    () => s.task(() => 1, { idempotency: { key: "a", ttl: 0 } }),
    /"idempotency.ttl" must be a finite number/,
  );
  assert.throws(
    () => s.task(() => 1, { idempotency: { key: "a", tl: 1 } as never }),
    /unknown option "tl"/,
  );
  assert.throws(
    () => s.task(() => 1, { idempotency: "a" as never }),
    /"idempotency" must be an object, received "a"/,
  );
});

/** An idempotency store that keeps JSON text, as go-go-scope's database adapters do. */
class JsonStore implements IdempotencyProvider {
  readonly rows: Map<string, string> = new Map();
  connects = 0;
  connect(): Promise<void> {
    this.connects++;
    return Promise.resolve();
  }
  get<T>(key: string): Promise<{ value: T } | null> {
    const text = this.rows.get(key);
    return Promise.resolve(text === undefined ? null : { value: JSON.parse(text) as T });
  }
  set<T>(key: string, value: T): Promise<void> {
    this.rows.set(key, JSON.stringify(value));
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.rows.delete(key);
    return Promise.resolve();
  }
}

test("idempotency: a result is stored in go-go-scope's format, its Result [undefined, value]", async () => {
  const store = new JsonStore();
  await using s = scope({ persistence: { idempotency: store } });
  await s.task(() => ({ orderNumber: 7 }), { idempotency: { key: "order-1" } });
  assert.equal(store.rows.get("order-1"), '[null,{"orderNumber":7}]');
  assert.equal(store.connects, 1, "a store with connect() is connected first");
});

test("idempotency: a result go-go-scope stored is returned without running; a failure it stored is not a result", async (t) => {
  const cases: { name: string; stored: string; runs: number; value: unknown }[] = [
    { name: "a success", stored: '[null,{"orderNumber":7}]', runs: 0, value: { orderNumber: 7 } },
    { name: "a success whose value is null", stored: "[null,null]", runs: 0, value: null },
    {
      name: "a failure (its error as JSON)",
      stored: '[{"message":"boom"},null]',
      runs: 1,
      value: 1,
    },
    { name: "not a Result", stored: '{"orderNumber":7}', runs: 1, value: 1 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const store = new JsonStore();
      store.rows.set("k", c.stored);
      await using s = scope({ persistence: { idempotency: store } });
      let runs = 0;
      const result = await s.task(() => ++runs, { idempotency: { key: "k" } });
      assert.deepEqual(result, [undefined, c.value]);
      assert.equal(runs, c.runs);
    });
  }
});
