// scope.debounce: trailing call with the last arguments, shared Result for a
// burst, leading edge, failures as Results, release on dispose, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope } from "../../../src/core/mod.ts";
import { dispose, sleep } from "../_helpers.ts";

test("debounce: a burst runs fn once with the last arguments, and every call gets its Result", async () => {
  await using s = scope();
  const seen: string[] = [];
  const d = s.debounce((q: string) => (seen.push(q), q.length), 10);
  const results = await Promise.all([d("a"), d("ab"), d("abc")]);
  assert.deepEqual(seen, ["abc"]);
  assert.deepEqual(results, [[undefined, 3], [undefined, 3], [undefined, 3]]);
});

test("debounce: calls after a quiet period start a new burst", async () => {
  await using s = scope();
  let runs = 0;
  const d = s.debounce(() => ++runs, { wait: 5 });
  assert.deepEqual(await d(), [undefined, 1]);
  assert.deepEqual(await d(), [undefined, 2]);
});

test("debounce: leading runs the first call at once, and the trailing call covers the rest", async () => {
  await using s = scope();
  const seen: number[] = [];
  const d = s.debounce((n: number) => (seen.push(n), n), { wait: 10, leading: true });
  const first = d(1);
  assert.deepEqual(seen, [1]);
  const rest = [d(2), d(3)];
  assert.deepEqual(await first, [undefined, 1]);
  assert.deepEqual(await Promise.all(rest), [[undefined, 3], [undefined, 3]]);
  assert.deepEqual(seen, [1, 3]);
});

test("debounce: leading without trailing drops the rest of the burst", async () => {
  await using s = scope();
  const seen: number[] = [];
  const d = s.debounce((n: number) => (seen.push(n), n), {
    wait: 5,
    leading: true,
    trailing: false,
  });
  const a = d(1);
  const b = d(2);
  assert.deepEqual(await a, [undefined, 1]);
  assert.deepEqual(await b, [undefined, 1]);
  await sleep(10);
  assert.deepEqual(seen, [1]);
});

test("debounce: a throwing fn resolves the callers with [error, undefined]", async () => {
  await using s = scope();
  const boom = new Error("boom");
  const d = s.debounce(async () => {
    throw boom;
  }, 1);
  assert.deepEqual(await d(), [boom, undefined]);
});

test("debounce: disposing the scope clears the timer and resolves waiting calls with the reason", async () => {
  const s = scope();
  let runs = 0;
  const d = s.debounce(() => ++runs, 60_000);
  const waiting = d();
  await dispose(s);
  const [err] = await waiting;
  assert.ok(err instanceof AbortError);
  assert.equal(err.message, "Scope disposed");
  assert.equal(runs, 0);
  const [later] = await d();
  assert.ok(later instanceof AbortError);
});

test("debounce: bad input throws naming the option", () => {
  const s = scope();
  assert.throws(() => s.debounce("x" as never), {
    message: /Cannot debounce: "fn" must be a function/,
  });
  assert.throws(() => s.debounce(() => 1, { wait: -1 }), { name: "RangeError", message: /"wait"/ });
  assert.throws(() => s.debounce(() => 1, { leading: "yes" } as never), {
    message: 'Cannot debounce: "leading" must be a boolean, received "yes"',
  });
  assert.throws(() => s.debounce(() => 1, { delay: 5 } as never), {
    message: /unknown option "delay"/,
  });
});
