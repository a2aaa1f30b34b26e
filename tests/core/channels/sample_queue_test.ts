// The 'sample' channel buffer (src/core/channels/_sample_queue.ts): FIFO inside the
// window, expiry through drop, an optional cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SampleQueue } from "../../../src/core/channels/_sample_queue.ts";
import { sleep } from "../_helpers.ts";

test("sample queue: values leave in order; expired ones go to drop, never to shift()", async () => {
  const dropped: string[] = [];
  const q = new SampleQueue<string>(20, 0, (v) => dropped.push(v));
  q.push("a");
  q.push("b");
  assert.equal(q.shift(), "a");
  await sleep(40);
  q.push("c");
  assert.deepEqual(dropped, ["b"]);
  assert.equal(q.shift(), "c");
  assert.equal(q.shift(), undefined);
});

test("sample queue: clear() forgets without calling drop", () => {
  const dropped: number[] = [];
  const q = new SampleQueue<number>(1000, 0, (v) => dropped.push(v));
  q.push(1);
  q.clear();
  assert.equal(q.size, 0);
  assert.deepEqual(dropped, []);
});

test("sample queue (property): with a cap it keeps the newest cap values, drops the rest in order", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 }), (cap, n) => {
      const dropped: number[] = [];
      const q = new SampleQueue<number>(60_000, cap, (v) => dropped.push(v));
      for (let i = 0; i < n; i++) q.push(i);
      const kept: number[] = [];
      for (let v = q.shift(); v !== undefined; v = q.shift()) kept.push(v);
      assert.equal(kept.length, Math.min(cap, n));
      assert.deepEqual([...dropped, ...kept], Array.from({ length: n }, (_, i) => i));
    }),
  );
});
