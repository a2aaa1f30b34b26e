// AsyncDisposableResource.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncDisposableResource } from "../../../src/core/mod.ts";
import { deferred } from "../_helpers.ts";

test("resource: acquire() creates the value once; dispose releases it once", async () => {
  const log: string[] = [];
  const r = new AsyncDisposableResource(async () => {
    log.push("acquire");
    return { id: 1 };
  }, (v) => {
    log.push(`dispose ${v.id}`);
  });
  assert.equal(r.value, undefined);
  assert.deepEqual(log, [], "nothing happens before acquire()");
  const v = await r.acquire();
  assert.deepEqual(v, { id: 1 });
  assert.equal(r.value, v);
  assert.equal(r.isAcquired, true);
  await r[Symbol.asyncDispose]();
  await r[Symbol.asyncDispose]();
  assert.deepEqual(log, ["acquire", "dispose 1"]);
  assert.equal(r.value, undefined);
  assert.equal(r.isDisposed, true);
});

test("resource: a second acquire() rejects and does not call acquire again", async () => {
  let calls = 0;
  const r = new AsyncDisposableResource(() => ++calls, () => {});
  await r.acquire();
  await assert.rejects(r.acquire(), {
    // go-go-scope's wording, which users match on.
    message: "Resource already acquired: acquire() is one-shot",
  });
  assert.equal(calls, 1);
  await r[Symbol.asyncDispose]();
  await assert.rejects(r.acquire(), {
    message: "Resource already disposed: it cannot be acquired again",
  });
});

test("resource: works with await using, and a falsy value is still disposed", async () => {
  const disposed: unknown[] = [];
  {
    await using r = new AsyncDisposableResource(() => 0, (v) => void disposed.push(v));
    assert.equal(await r.acquire(), 0);
  }
  assert.deepEqual(disposed, [0]);
});

test("resource: disposing never acquired does nothing", async () => {
  let disposed = false;
  const r = new AsyncDisposableResource(() => 1, () => disposed = true);
  await r[Symbol.asyncDispose]();
  assert.equal(disposed, false);
});

test("resource: disposal waits for an acquisition in flight, then disposes it", async () => {
  const gate = deferred<string>();
  const log: string[] = [];
  const r = new AsyncDisposableResource(() => gate.promise, (v) => void log.push(v));
  const acquired = r.acquire();
  const disposal = r[Symbol.asyncDispose]();
  gate.resolve("conn");
  assert.equal(await acquired, "conn");
  await disposal;
  assert.deepEqual(log, ["conn"]);
  assert.equal(r.value, undefined);
});

test("resource: a failed acquisition rejects acquire() and disposal skips dispose", async () => {
  let disposed = false;
  const r = new AsyncDisposableResource(
    () => Promise.reject(new Error("refused")),
    () => disposed = true,
  );
  await assert.rejects(r.acquire(), { message: "refused" });
  await r[Symbol.asyncDispose]();
  assert.equal(disposed, false);
});

test("resource: dispose's error rejects the disposal", async () => {
  const r = new AsyncDisposableResource(() => 1, () => {
    throw new Error("close failed");
  });
  await r.acquire();
  await assert.rejects(r[Symbol.asyncDispose](), { message: "close failed" });
});

test("resource: bad input is a TypeError", () => {
  assert.throws(() => new AsyncDisposableResource(1 as never, () => {}), {
    name: "TypeError",
    message: 'Cannot create resource: "acquire" must be a function, received 1',
  });
  assert.throws(() => new AsyncDisposableResource(() => 1, null as never), { name: "TypeError" });
});
