// flushPromises: one real macrotask, with or without a virtual clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createTimeController, flushPromises } from "../../src/testing/mod.ts";

describe("flushPromises", () => {
  it("resolves after pending promise chains ran", async () => {
    const seen: number[] = [];
    Promise.resolve().then(() => seen.push(1)).then(() => seen.push(2)).then(() => seen.push(3));
    await flushPromises();
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("resolves with a virtual clock installed (go-go-scope's never does)", async () => {
    using time = createTimeController();
    time.install();
    let done = false;
    Promise.resolve().then(() => (done = true));
    await flushPromises();
    assert.equal(done, true);
    assert.equal(time.now, 0, "virtual time did not move");
  });
});
