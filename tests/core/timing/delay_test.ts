// scope.delay(ms): resolves after ms, rejects with the abort reason when the
// scope aborts (its timer cleared), validates ms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope } from "../../../src/core/mod.ts";
import { dispose } from "../_helpers.ts";

test("delay: resolves after the given time", async () => {
  const s = scope();
  const start = performance.now();
  await s.delay(15);
  assert.ok(performance.now() - start >= 10);
  await dispose(s);
});

test("delay: disposing the scope rejects a pending delay at once with 'Scope disposed'", async () => {
  const s = scope();
  const pending = s.delay(60_000);
  await dispose(s); // the sanitizer fails the test if the 60 s timer survived
  const err = await pending.catch((e) => e);
  assert.ok(err instanceof AbortError);
  assert.equal(err.message, "Scope disposed");
});

test("delay: cancelling with an error rejects with that error; an aborted scope rejects at once", async () => {
  const s = scope();
  const pending = s.delay(60_000);
  const reason = new Error("stop");
  s.cancel(reason);
  assert.equal(await pending.catch((e) => e), reason);
  assert.equal(await s.delay(0).catch((e) => e), reason);
  await dispose(s);
});

test("delay: a finished delay leaves nothing attached to the scope", async () => {
  const s = scope();
  await s.delay(1);
  await s.delay(1);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("delay: rejects bad ms naming the option", () => {
  const s = scope();
  assert.throws(() => s.delay(-1), {
    name: "RangeError",
    message: 'Cannot delay: "ms" must be a finite number of milliseconds >= 0, received -1',
  });
  assert.throws(() => s.delay("5" as never), { name: "TypeError", message: /"ms".*received "5"/ });
});
