// createTimeTravelController: a standalone timeline with descriptions,
// intervals, absolute jumps and a history (go-go-scope's interface), whose
// runAll() returns when only intervals are left.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createTimeTravelController, VirtualClockError } from "../../../src/testing/mod.ts";

describe("createTimeTravelController", () => {
  it("jumpTo() and advance() run events in order and record the history", () => {
    const time = createTimeTravelController();
    const results: number[] = [];
    time.setTimeout(() => results.push(1), 100, "first");
    const second = time.setTimeout(() => results.push(2), 200);
    assert.deepEqual(time.timeline, [
      { id: 1, time: 100, description: "first" },
      { id: second, time: 200 },
    ]);
    time.jumpTo(150);
    assert.deepEqual(results, [1]);
    assert.equal(time.now, 150);
    assert.equal(time.nextEventTime(), 200);
    time.advance(100);
    assert.deepEqual(results, [1, 2]);
    assert.deepEqual(time.history, [
      { time: 100, action: "first" },
      { time: 200, action: `event-${second}` },
    ]);
    assert.equal(time.nextEventTime(), Infinity);
  });

  it("setInterval() repeats until cleared; its occurrences are named as go-go-scope names them", () => {
    const time = createTimeTravelController();
    let ticks = 0;
    const id = time.setInterval(() => ticks++, 100, "poll");
    time.advance(350);
    assert.equal(ticks, 3);
    assert.deepEqual(time.history.map((h) => h.action), Array(3).fill("poll (repeat)"));
    assert.deepEqual(time.history.map((h) => h.time), [100, 200, 300]);
    assert.equal(time.clearTimeout(id), true);
    assert.equal(time.clearTimeout(id), false);
    time.advance(1000);
    assert.equal(ticks, 3);
  });

  it("runAll() returns once only intervals are left (go-go-scope's never returns)", () => {
    const time = createTimeTravelController();
    let ticks = 0;
    time.setInterval(() => ticks++, 100);
    time.setTimeout(() => {}, 250, "last");
    time.runAll();
    assert.equal(ticks, 2);
    assert.equal(time.now, 250);
    time.runAll();
    assert.equal(ticks, 2, "nothing but the interval: returns at once");
  });

  it("runAll() throws GGS_ERR_CLOCK_LOOP on events that keep scheduling events", () => {
    const time = createTimeTravelController();
    const again = () => void time.setTimeout(again, 5);
    time.setTimeout(again, 5);
    assert.throws(
      () => time.runAll(),
      (err: unknown) => err instanceof VirtualClockError && err.code === "GGS_ERR_CLOCK_LOOP",
    );
  });

  it("a 0 ms interval repeats every 1 ms instead of freezing advance()", () => {
    const time = createTimeTravelController();
    let ticks = 0;
    time.setInterval(() => ticks++, 0);
    time.advance(5);
    assert.equal(ticks, 5);
  });

  it("jumpTo() into the past throws a RangeError; reset() forgets everything", () => {
    const time = createTimeTravelController();
    time.setTimeout(() => {}, 10);
    time.advance(20);
    assert.throws(() => time.jumpTo(10), (err: unknown) =>
      err instanceof RangeError &&
      /Cannot jump: "targetTime" must be at least the current time \(20\)/.test(err.message));
    time.setTimeout(() => {}, 10);
    time.reset();
    assert.equal(time.now, 0);
    assert.deepEqual(time.timeline, []);
    assert.deepEqual(time.history, []);
  });

  it("printTimeline() prints each pending event", () => {
    const time = createTimeTravelController();
    time.setTimeout(() => {}, 30, "later");
    time.setTimeout(() => {}, 10);
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    try {
      time.printTimeline();
    } finally {
      console.log = log;
    }
    assert.deepEqual(lines, ["Timeline:", "  10ms: event-2", "  30ms: later"]);
  });
});
