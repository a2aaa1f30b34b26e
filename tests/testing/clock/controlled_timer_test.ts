// createControlledTimer: a standalone timer advanced by hand (go-go-scope's
// interface), with a flush() that lets promises run and stops on a callback
// that keeps re-scheduling itself.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createControlledTimer, VirtualClockError } from "../../../src/testing/mod.ts";

describe("createControlledTimer", () => {
  it("advance() fires what falls due, in time order, synchronously", () => {
    const timer = createControlledTimer();
    const fired: string[] = [];
    timer.setTimeout(() => fired.push("b"), 200);
    timer.setTimeout(() => fired.push("a"), 100);
    timer.setTimeout(() => fired.push("a2"), 100);
    timer.advance(150);
    assert.deepEqual(fired, ["a", "a2"], "same time: scheduling order");
    assert.equal(timer.currentTime, 150);
    timer.advance(50);
    assert.deepEqual(fired, ["a", "a2", "b"]);
  });

  it("callbacks that schedule within the window fire in the same advance()", () => {
    const timer = createControlledTimer();
    const at: number[] = [];
    timer.setTimeout(() => {
      at.push(timer.currentTime);
      timer.setTimeout(() => at.push(timer.currentTime), 30);
    }, 50);
    timer.advance(100);
    assert.deepEqual(at, [50, 80]);
    assert.equal(timer.currentTime, 100);
  });

  it("clearTimeout() cancels; unknown ids are ignored; ids are distinct", () => {
    const timer = createControlledTimer();
    let fired = false;
    const id = timer.setTimeout(() => (fired = true), 10);
    assert.notEqual(timer.setTimeout(() => {}, 10), id);
    timer.clearTimeout(id);
    timer.clearTimeout(12345);
    timer.advance(20);
    assert.equal(fired, false);
  });

  it("flush() runs everything and lets promise callbacks run between callbacks", async () => {
    const timer = createControlledTimer();
    const order: string[] = [];
    timer.setTimeout(() => {
      order.push("first");
      Promise.resolve().then(() => order.push("its promise"));
    }, 1000);
    timer.setTimeout(() => order.push("second"), 2000);
    await timer.flush();
    assert.deepEqual(order, ["first", "its promise", "second"]);
    assert.equal(timer.currentTime, 2000);
  });

  it("flush() stops with GGS_ERR_CLOCK_LOOP on a callback that keeps re-scheduling itself", async () => {
    const timer = createControlledTimer();
    let runs = 0;
    const again = () => {
      runs++;
      timer.setTimeout(again, 1);
    };
    timer.setTimeout(again, 1);
    await assert.rejects(
      timer.flush(),
      (err: unknown) => err instanceof VirtualClockError && err.code === "GGS_ERR_CLOCK_LOOP",
    );
    assert.equal(runs, 1000);
  });

  it("reset() forgets callbacks and time; bad arguments throw", () => {
    const timer = createControlledTimer();
    let fired = false;
    timer.setTimeout(() => (fired = true), 10);
    timer.advance(5);
    timer.reset();
    assert.equal(timer.currentTime, 0);
    timer.advance(100);
    assert.equal(fired, false);
    assert.throws(() => timer.advance(-1), RangeError);
    assert.throws(() => timer.setTimeout(() => {}, Number.NaN), RangeError);
    assert.throws(() => timer.setTimeout("code" as unknown as () => void, 1), TypeError);
  });

  it("replaces nothing global", () => {
    const before = globalThis.setTimeout;
    const timer = createControlledTimer();
    timer.advance(10);
    assert.equal(globalThis.setTimeout, before);
    assert.ok(Date.now() > 1_000_000_000_000);
  });
});
