// The virtual clock: every timer source it covers, advance() letting promise
// callbacks run between timers, runAll() stopping at intervals, handles that
// keep ref/unref/hasRef, install/uninstall, and the core's timed features
// (retry backoff, task and scope deadlines, race and select timeouts, the
// circuit breaker's reset, every()) driven without real waiting.
//
// Each test uses its own deadline lengths (see the tests of deadlines across clocks at the end).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import timers from "node:timers";
import { CircuitBreaker, CircuitOpenError, scope, TimeoutError } from "../../../src/core/mod.ts";
import {
  createTimeController,
  type TimeController,
  VirtualClockError,
} from "../../../src/testing/mod.ts";

/** A new controller, installed: declare it with `using` so that it is uninstalled at the block's end. */
function installed(options?: { now?: number | Date; loopLimit?: number }): TimeController {
  const time = createTimeController(options);
  time.install();
  return time;
}

describe("createTimeController: install and uninstall", () => {
  it("install() replaces every timer source; uninstall() puts every original back", () => {
    const originals = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      setInterval: globalThis.setInterval,
      clearInterval: globalThis.clearInterval,
      Date: globalThis.Date,
      dateNow: Date.now,
      performance: globalThis.performance,
      performanceNow: globalThis.performance.now,
      abortSignalTimeout: AbortSignal.timeout,
      timersSetTimeout: timers.setTimeout,
    };
    const time = createTimeController();
    time.install();
    try {
      assert.equal(time.isInstalled, true);
      assert.notEqual(globalThis.setTimeout, originals.setTimeout);
      assert.notEqual(globalThis.clearTimeout, originals.clearTimeout);
      assert.notEqual(globalThis.setInterval, originals.setInterval);
      assert.notEqual(globalThis.clearInterval, originals.clearInterval);
      assert.notEqual(globalThis.Date, originals.Date);
      assert.notEqual(globalThis.performance.now, originals.performanceNow);
      assert.notEqual(AbortSignal.timeout, originals.abortSignalTimeout);
    } finally {
      time.uninstall();
    }
    assert.equal(time.isInstalled, false);
    assert.equal(globalThis.setTimeout, originals.setTimeout);
    assert.equal(globalThis.clearTimeout, originals.clearTimeout);
    assert.equal(globalThis.setInterval, originals.setInterval);
    assert.equal(globalThis.clearInterval, originals.clearInterval);
    assert.equal(globalThis.Date, originals.Date);
    assert.equal(Date.now, originals.dateNow);
    assert.equal(globalThis.performance, originals.performance);
    assert.equal(globalThis.performance.now, originals.performanceNow);
    assert.equal(AbortSignal.timeout, originals.abortSignalTimeout);
    assert.equal(timers.setTimeout, originals.timersSetTimeout);
    assert.ok(Date.now() > 1_000_000_000_000, "Date.now() is the real time again");
  });

  it("installing twice is an error: the same controller, or another one", () => {
    using time = installed();
    assert.throws(() => time.install(), (err: unknown) => {
      assert.ok(err instanceof VirtualClockError);
      assert.equal(err.code, "GGS_ERR_CLOCK_INSTALLED");
      assert.match(err.message, /already installed/);
      return true;
    });
    assert.throws(
      () => createTimeController().install(),
      (err: unknown) =>
        err instanceof VirtualClockError && err.code === "GGS_ERR_CLOCK_INSTALLED" &&
        /another virtual clock/.test(err.message),
    );
    assert.equal(time.isInstalled, true, "the failed installs changed nothing");
  });

  it("uninstall() is idempotent; a controller can be installed again; `using` uninstalls", () => {
    const time = createTimeController();
    time.uninstall(); // not installed: nothing to do
    time.install();
    time.uninstall();
    time.uninstall();
    time.install();
    assert.equal(time.isInstalled, true);
    time.uninstall();
    {
      using scoped = createTimeController();
      scoped.install();
      assert.equal(scoped.isInstalled, true);
    }
    const again = createTimeController();
    again.install(); // the `using` block uninstalled the other one
    again.uninstall();
  });

  it("the clock starts at 0 (as go-go-scope's), or at the `now` option", () => {
    using time = installed({ now: new Date("2030-01-02T03:04:05.000Z") });
    assert.equal(new Date().toISOString(), "2030-01-02T03:04:05.000Z");
    assert.equal(Date.now(), time.now);
    assert.equal(performance.now(), 0);
    time.uninstall();
    const zero = createTimeController();
    assert.equal(zero.now, 0);
    zero.install();
    assert.equal(Date.now(), 0);
    zero.uninstall();
  });

  it("rejects bad options and arguments with GGS_ERR_INVALID_OPTION", async () => {
    const invalid = (err: unknown) => (err as { code?: string }).code === "GGS_ERR_INVALID_OPTION";
    assert.throws(() => createTimeController({ now: Number.NaN }), RangeError);
    assert.throws(() => createTimeController({ now: "soon" as unknown as number }), TypeError);
    assert.throws(() => createTimeController({ loopLimit: 0 }), invalid);
    assert.throws(() => createTimeController({ loopLimit: 1.5 }), RangeError);
    assert.throws(() => createTimeController(null as unknown as undefined), TypeError);
    const time = createTimeController();
    assert.throws(() => time.advance(-1), RangeError);
    assert.throws(() => time.advance("10" as unknown as number), TypeError);
    assert.throws(() => time.advance(Infinity), invalid);
    assert.throws(() => time.delay(-5), RangeError);
    assert.throws(() => time.jumpTo(Number.NaN), RangeError);
    await time.advance(100);
    await assert.rejects(time.jumpTo(50), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.match(
        err.message,
        /Cannot jump: "timestamp" must be at least the clock's time \(100\)/,
      );
      return true;
    });
  });
});

describe("createTimeController: every timer source follows the clock", () => {
  it("setTimeout and clearTimeout", async () => {
    using time = installed();
    const fired: string[] = [];
    setTimeout(() => fired.push(`a@${Date.now()}`), 100);
    const b = setTimeout(() => fired.push("b"), 150);
    setTimeout((x: string) => fired.push(`c:${x}@${Date.now()}`), 200, "arg");
    clearTimeout(b);
    await time.advance(99);
    assert.deepEqual(fired, []);
    await time.advance(1);
    assert.deepEqual(fired, ["a@100"]);
    await time.advance(1000);
    assert.deepEqual(fired, ["a@100", "c:arg@200"]);
    assert.equal(time.now, 1100);
    assert.equal(time.pendingTimers, 0);
  });

  it("setInterval and clearInterval", async () => {
    using time = installed();
    const at: number[] = [];
    const id = setInterval(() => at.push(Date.now()), 250);
    await time.advance(1000);
    assert.deepEqual(at, [250, 500, 750, 1000]);
    clearInterval(id);
    await time.advance(1000);
    assert.equal(at.length, 4);
  });

  it("Date.now(), new Date() and performance.now() move with the clock only", async () => {
    using time = installed({ now: 1_000 });
    const date = Date.now();
    const perf = performance.now();
    await new Promise((resolve) => timers.setImmediate(resolve)); // real time passes...
    assert.equal(Date.now(), date, "...but not virtual time");
    await time.advance(1234.5);
    assert.equal(Date.now(), 2234);
    assert.equal(new Date().getTime(), 2234);
    assert.equal(performance.now() - perf, 1234.5);
    assert.equal(new Date(5).getTime(), 5, "new Date(value) is unchanged");
  });

  it("AbortSignal.timeout() aborts with a TimeoutError DOMException at its virtual time", async () => {
    using time = installed();
    const signal = AbortSignal.timeout(500);
    let abortedAt: number | undefined;
    signal.addEventListener("abort", () => (abortedAt = Date.now()));
    await time.advance(499);
    assert.equal(signal.aborted, false);
    await time.advance(1);
    assert.equal(signal.aborted, true);
    assert.equal(abortedAt, 500);
    assert.ok(signal.reason instanceof DOMException);
    assert.equal(signal.reason.name, "TimeoutError");
    assert.throws(() => AbortSignal.timeout(-1), TypeError);
    assert.throws(() => AbortSignal.timeout(Number.NaN), TypeError);
  });

  it("timer handles keep ref(), unref(), hasRef() (and refresh())", async () => {
    using time = installed();
    let fired = 0;
    const handle = setTimeout(() => fired++, 100) as unknown as {
      ref(): unknown;
      unref(): unknown;
      hasRef(): boolean;
      refresh(): unknown;
    };
    assert.equal(handle.hasRef(), true);
    assert.equal(handle.unref(), handle, "unref() returns the handle, as Node's");
    assert.equal(handle.hasRef(), false);
    assert.equal(handle.ref(), handle);
    assert.equal(handle.hasRef(), true);
    await time.advance(60);
    handle.refresh(); // due 100 ms from now again
    await time.advance(60);
    assert.equal(fired, 0);
    await time.advance(40);
    assert.equal(fired, 1);
    const interval = setInterval(() => {}, 10) as unknown as {
      unref(): unknown;
      hasRef(): boolean;
    };
    interval.unref();
    assert.equal(interval.hasRef(), false);
    clearInterval(interval as unknown as ReturnType<typeof setInterval>);
  });

  it("a real timer started before install() still fires in real time, and can be cleared while installed", async () => {
    let realFired = false;
    const done = new Promise<void>((resolve) => setTimeout(() => (realFired = true, resolve()), 5));
    const cleared = setTimeout(() => assert.fail("a cleared real timer fired"), 5);
    using time = installed();
    clearTimeout(cleared);
    await done;
    assert.equal(realFired, true);
    assert.equal(time.now, 0);
  });
});

describe("createTimeController: advance() and promise callbacks", () => {
  it("a retry loop that schedules its next delay after an awaited failure completes within one advance()", async () => {
    using time = installed();
    const log: string[] = [];
    async function fetchWithRetry(): Promise<string> {
      for (let attempt = 1;; attempt++) {
        try {
          await Promise.reject(new Error(`attempt ${attempt} failed`));
        } catch (error) {
          log.push(`${(error as Error).message} at ${Date.now()}`);
          if (attempt === 4) return "gave up";
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
        }
      }
    }
    const result = fetchWithRetry();
    await time.advance(700); // 100 + 200 + 400
    assert.deepEqual(log, [
      "attempt 1 failed at 0",
      "attempt 2 failed at 100",
      "attempt 3 failed at 300",
      "attempt 4 failed at 700",
    ]);
    assert.equal(await result, "gave up");
  });

  it("promise callbacks of one timer run before the next timer fires", async () => {
    using time = installed();
    const order: string[] = [];
    setTimeout(() => {
      order.push("timer 100");
      Promise.resolve().then(() => order.push("promise of 100")).then(() =>
        order.push("its next step")
      );
    }, 100);
    setTimeout(() => order.push("timer 100 (second)"), 100);
    setTimeout(() => order.push("timer 200"), 200);
    await time.advance(200);
    assert.deepEqual(order, [
      "timer 100",
      "promise of 100",
      "its next step",
      "timer 100 (second)",
      "timer 200",
    ]);
  });

  it("promise callbacks pending before advance() run before any timer (work started just before is on time)", async () => {
    using time = installed();
    let scheduledAt: number | undefined;
    Promise.resolve().then(() => setTimeout(() => (scheduledAt = Date.now()), 50));
    await time.advance(50);
    assert.equal(scheduledAt, 50);
  });

  it("clock operations run one after another, in call order", async () => {
    using time = installed();
    const fired: number[] = [];
    setTimeout(() => fired.push(Date.now()), 150);
    const first = time.advance(100);
    const second = time.advance(100); // not awaited in between
    await Promise.all([first, second]);
    assert.deepEqual(fired, [150]);
    assert.equal(time.now, 200);
  });

  it("advance() rejects with the first error a timer callback threw (and still moves on)", async () => {
    using time = installed();
    let later = false;
    setTimeout(() => {
      throw new Error("boom");
    }, 10);
    setTimeout(() => (later = true), 20);
    await assert.rejects(time.advance(30), /boom/);
    assert.equal(later, true);
    assert.equal(time.now, 30);
  });

  it("jumpTo() moves to an absolute time, firing what falls due", async () => {
    using time = installed({ now: 1000 });
    const fired: number[] = [];
    setTimeout(() => fired.push(Date.now()), 500);
    await time.jumpTo(1600);
    assert.deepEqual(fired, [1500]);
    assert.equal(Date.now(), 1600);
  });
});

describe("createTimeController: runAll(), reset(), delay()", () => {
  it("runAll() runs every timeout, including those scheduled along the way", async () => {
    using time = installed();
    const fired: number[] = [];
    setTimeout(() => {
      fired.push(Date.now());
      Promise.resolve().then(() => setTimeout(() => fired.push(Date.now()), 1000));
    }, 100);
    await time.runAll();
    assert.deepEqual(fired, [100, 1100]);
    assert.equal(time.pendingTimers, 0);
  });

  it("runAll() stops at intervals: it returns with the interval still scheduled", async () => {
    using time = installed();
    let ticks = 0;
    const id = setInterval(() => ticks++, 100);
    let done = false;
    setTimeout(() => (done = true), 350);
    await time.runAll();
    assert.equal(done, true);
    assert.equal(ticks, 3, "the interval fired on the way to the last timeout");
    assert.equal(time.pendingTimers, 1, "and is still scheduled");
    await time.runAll(); // only the interval left: returns at once
    assert.equal(ticks, 3);
    clearInterval(id);
  });

  it("runAll() gives up after loopLimit timers when timeouts keep scheduling timeouts", async () => {
    using time = installed({ loopLimit: 50 });
    let runs = 0;
    const again = () => {
      runs++;
      setTimeout(again, 10);
    };
    setTimeout(again, 10);
    await assert.rejects(time.runAll(), (err: unknown) => {
      assert.ok(err instanceof VirtualClockError);
      assert.equal(err.code, "GGS_ERR_CLOCK_LOOP");
      assert.match(err.message, /50 timers fired/);
      return true;
    });
    assert.equal(runs, 50);
    time.reset();
  });

  it("reset() forgets every timer and puts the clock back to its start", async () => {
    using time = installed({ now: 5000 });
    let fired = false;
    setTimeout(() => (fired = true), 100);
    await time.advance(50);
    time.reset();
    assert.equal(time.now, 5000);
    assert.equal(Date.now(), 5000);
    assert.equal(time.pendingTimers, 0);
    await time.advance(100);
    assert.equal(fired, false);
  });

  it("delay() resolves after that much virtual time, installed or not; install() keeps what is pending", async () => {
    const time = createTimeController();
    let resolved = false;
    const delayed = time.delay(300).then(() => (resolved = true));
    await time.advance(100); // on the private timeline: globals untouched
    assert.equal(resolved, false);
    time.install();
    try {
      await time.advance(199);
      assert.equal(resolved, false);
      await time.advance(1);
      await delayed;
      assert.equal(resolved, true);
      assert.equal(Date.now(), 300);
    } finally {
      time.uninstall();
    }
  });

  it("timers still pending at uninstall() are dropped", async () => {
    const time = createTimeController();
    time.install();
    let fired = false;
    setTimeout(() => (fired = true), 1);
    time.uninstall();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fired, false);
    assert.equal(time.pendingTimers, 0);
  });
});

describe("createTimeController: the core's timed features, without real waiting", () => {
  it("retry with exponential backoff: every retry within one advance()", async () => {
    using time = installed();
    await using s = scope();
    const attempts: number[] = [];
    const task = s.task(() => {
      attempts.push(Date.now());
      throw new Error("down");
    }, { retry: "exponential" }); // 3 retries: 100, 200, 400 ms
    await time.advance(700);
    const [err] = await task;
    assert.equal(err?.message, "down");
    assert.deepEqual(attempts, [0, 100, 300, 700]);
  });

  it("a task's timeout and a scope's timeout fire at their virtual time", async () => {
    using time = installed();
    await using s = scope({ timeout: 60_001 });
    const task = s.task(() => new Promise(() => {}), { timeout: 30_001 });
    await time.advance(30_000);
    assert.equal(task.isSettled, false);
    await time.advance(1);
    const [err] = await task;
    assert.ok(err instanceof TimeoutError);
    assert.equal(s.isAborted, false);
    await time.advance(30_000);
    assert.ok(s.abortReason instanceof TimeoutError);
  });

  it("race() and select() timeouts, and scope.delay()", async () => {
    using time = installed();
    await using s = scope();
    const raced = s.race([() => new Promise<never>(() => {})], { timeout: 1_501 });
    const channel = s.channel<number>();
    const selected = s.select(new Map([[channel, (n: number) => n]]), { timeout: 2_501 });
    let slept = false;
    const sleep = s.delay(3_001).then(() => (slept = true));
    await time.advance(3_001);
    const [raceErr] = await raced;
    assert.ok(raceErr instanceof TimeoutError, `race: got ${String(raceErr)}`);
    const [selectErr] = await selected;
    assert.ok(selectErr instanceof TimeoutError, `select: got ${String(selectErr)}`);
    await sleep;
    assert.equal(slept, true);
  });

  it("a task signal from AbortSignal.timeout() cancels it at its virtual time", async () => {
    using time = installed();
    await using s = scope();
    const task = s.task(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      { signal: AbortSignal.timeout(4_001) },
    );
    await time.advance(4_001);
    const [err] = await task;
    assert.equal((err as { name?: string } | undefined)?.name, "TimeoutError");
  });

  it("the circuit breaker opens, then lets a trial through after resetTimeout of virtual time", async () => {
    using time = installed({ now: Date.UTC(2030, 0, 1) });
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10_000 });
    await using s = scope({ circuitBreaker: breaker });
    for (let i = 0; i < 2; i++) await s.task(() => Promise.reject(new Error("down")));
    assert.equal(breaker.state, "open");
    const [rejected] = await s.task(() => "unused");
    assert.ok(rejected instanceof CircuitOpenError);
    await time.advance(9_999);
    assert.equal(breaker.state, "open");
    await time.advance(1);
    assert.equal(breaker.state, "half-open");
    const [err, value] = await s.task(() => "recovered");
    assert.equal(err, undefined);
    assert.equal(value, "recovered");
    assert.equal(breaker.state, "closed");
  });

  it("every() runs on schedule; runAll() refuses to chase it forever", async () => {
    using time = installed({ loopLimit: 20 });
    await using s = scope();
    const runs: number[] = [];
    const stop = s.every(1_000, () => void runs.push(Date.now()));
    await time.advance(3_000);
    assert.deepEqual(runs, [0, 1000, 2000, 3000], "at once, then 1 s after each run");
    await assert.rejects(
      time.runAll(),
      (err: unknown) => err instanceof VirtualClockError && err.code === "GGS_ERR_CLOCK_LOOP",
    );
    stop();
  });
});

describe("createTimeController: deadlines across clocks", () => {
  // The core keeps one timer per deadline length armed (unref'd) between
  // deadlines (src/core/kernel/_deadline.ts) and re-refs it for the next
  // deadline of that length, unless the timer functions changed since it was
  // armed: then it arms anew under the current clock.
  it("a deadline length used before install() still fires on advance()", async () => {
    const before = scope({ timeout: 7_777 });
    await before[Symbol.asyncDispose]();
    using time = installed();
    await using s = scope({ timeout: 7_777 });
    await time.advance(7_777);
    assert.equal(s.isAborted, true);
  });

  it("a deadline length used under a clock since uninstalled fires in real time", async () => {
    {
      using _time = installed();
      const under = scope({ timeout: 31 });
      await under[Symbol.asyncDispose]();
    }
    await using s = scope({ timeout: 31 });
    const start = performance.now();
    while (!s.isAborted && performance.now() - start < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(s.isAborted, true);
  });
});
