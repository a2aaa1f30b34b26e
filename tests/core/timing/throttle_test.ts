// scope.throttle: leading call, throttled calls, trailing call, release on
// dispose, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, scope } from "../../../src/core/mod.ts";
import { dispose, sleep } from "../_helpers.ts";

test("throttle: the first call runs at once; calls inside the interval resolve [undefined, undefined]", async () => {
  await using s = scope();
  let runs = 0;
  const t = s.throttle(() => ++runs, 50);
  assert.deepEqual(await t(), [undefined, 1]);
  assert.deepEqual(await t(), [undefined, undefined]);
  assert.equal(runs, 1);
});

test("throttle: after the interval a call runs again", async () => {
  await using s = scope();
  let runs = 0;
  const t = s.throttle(() => ++runs, { interval: 5 });
  await t();
  await sleep(10);
  assert.deepEqual(await t(), [undefined, 2]);
});

test("throttle: trailing runs once more with the last arguments at the end of the interval", async () => {
  await using s = scope();
  const seen: number[] = [];
  const t = s.throttle((n: number) => (seen.push(n), n), { interval: 10, trailing: true });
  assert.deepEqual(await t(1), [undefined, 1]);
  const rest = await Promise.all([t(2), t(3)]);
  assert.deepEqual(rest, [[undefined, 3], [undefined, 3]]);
  assert.deepEqual(seen, [1, 3]);
});

test("throttle: leading false with trailing waits an interval before the first run", async () => {
  await using s = scope();
  const seen: number[] = [];
  const t = s.throttle((n: number) => (seen.push(n), n), {
    interval: 5,
    leading: false,
    trailing: true,
  });
  const p = t(1);
  assert.deepEqual(seen, []);
  assert.deepEqual(await p, [undefined, 1]);
});

test("throttle: disposing the scope clears the trailing timer and resolves waiters with the reason", async () => {
  const s = scope();
  let runs = 0;
  const t = s.throttle(() => ++runs, { interval: 60_000, trailing: true });
  await t();
  const waiting = t();
  await dispose(s);
  const [err] = await waiting;
  assert.ok(err instanceof AbortError);
  assert.equal(runs, 1);
});

test("throttle: bad input throws naming the option", () => {
  const s = scope();
  assert.throws(() => s.throttle(() => 1, { interval: Infinity }), {
    name: "RangeError",
    message:
      /Cannot throttle: "interval" must be a finite number of milliseconds >= 0, received Infinity/,
  });
  assert.throws(() => s.throttle(() => 1, "fast" as never), {
    message: /"options" must be a number of ms or \{ interval, leading, trailing \}/,
  });
});
