/**
 * The virtual clock: `createTimeController()` returns a controller whose
 * `install()` replaces every timer source the core and user code read
 * (`setTimeout`/`clearTimeout`, `setInterval`/`clearInterval`, `Date.now()`
 * and `new Date()`, `performance.now()`, `AbortSignal.timeout()`) with a
 * clock that moves only when the test says so. Built on
 * `@sinonjs/fake-timers` (the clock Jest and Vitest use); this file adds what
 * it lacks: `AbortSignal.timeout`, an error on a second install, a `runAll()`
 * that stops at intervals, and clock operations that run one after another.
 *
 * @module
 */
import { type Clock, createClock, type FakeMethod, install } from "@sinonjs/fake-timers";
import { patchAbortSignalTimeout } from "./_abort_signal_timeout.ts";
import { assertMs, fail } from "../_validate.ts";
import { VirtualClockError } from "../errors.ts";

/** What `install()` replaces (besides `AbortSignal.timeout`, patched here). */
const FAKED: FakeMethod[] = [
  "setTimeout",
  "clearTimeout",
  "setInterval",
  "clearInterval",
  "Date",
  "performance",
];
const DEFAULT_LOOP_LIMIT = 1000;
const WHAT = "Cannot create time controller";

/**
 * Options of {@linkcode createTimeController}.
 *
 * @example
 * ```ts
 * import { createTimeController, type TimeControllerOptions } from "@go-go-scope/adapter-fastify/testing";
 *
 * const options: TimeControllerOptions = { now: new Date("2030-01-01T00:00:00Z") };
 * const time = createTimeController(options);
 * console.log(new Date(time.now).toISOString()); // 2030-01-01T00:00:00.000Z
 * ```
 */
export interface TimeControllerOptions {
  /**
   * The clock's starting time, in milliseconds since the epoch or as a Date
   * (what `Date.now()` returns once installed). `performance.now()` starts at 0.
   * @default 0, as go-go-scope's controller
   */
  now?: number | Date;
  /**
   * How many timers `runAll()` fires before it gives up with a
   * `VirtualClockError` (`GGS_ERR_CLOCK_LOOP`).
   * @default 1000
   */
  loopLimit?: number;
}

/**
 * A virtual clock. Until `install()` it is a private timeline (`delay()` and
 * the advancing methods work on it); once installed, every timer of the
 * process is on it. Methods that move time return promises and run one after
 * another, in call order; between two due timers they let every pending promise
 * callback run, so work that awaits and then schedules its next timer (a retry
 * loop, a backoff) proceeds within one `advance()`.
 *
 * @example
 * ```ts
 * import { createTimeController } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * using time = createTimeController();
 * time.install();
 * await using s = scope();
 * let attempts = 0;
 * const task = s.task(() => {
 *   attempts++;
 *   throw new Error("flaky");
 * }, { retry: { max: 3, delay: 1000 } });
 * await time.advance(3000); // three retries, one second apart
 * const [err] = await task;
 * console.log(attempts, err?.message); // 4 flaky
 * ```
 */
export interface TimeController extends Disposable {
  /** The virtual time in milliseconds (what `Date.now()` returns while installed). */
  readonly now: number;
  /** Whether this controller's clock is the installed one. */
  readonly isInstalled: boolean;
  /** How many timers are scheduled on the clock and not yet fired or cleared. */
  readonly pendingTimers: number;
  /**
   * Moves the clock forward by `ms`, firing every timer that falls due on the
   * way, in order, each at its own time; between two timers every pending
   * promise callback runs (timers those callbacks schedule within the window
   * fire too). Rejects with the first error a timer callback threw.
   */
  advance(ms: number): Promise<void>;
  /** Moves the clock to `timestamp` (absolute virtual time), as `advance()` would. */
  jumpTo(timestamp: number): Promise<void>;
  /**
   * Fires timers in time order until no timeout is left (intervals fire along
   * the way but do not keep it going; it returns with them still scheduled).
   * Rejects with a `VirtualClockError` (`GGS_ERR_CLOCK_LOOP`) after
   * `loopLimit` timers: timeouts that keep scheduling timeouts (the core's
   * `every()` and `poll()`) never run out; use `advance()` for them.
   */
  runAll(): Promise<void>;
  /** Forgets every pending timer and puts the clock back to its starting time. */
  reset(): void;
  /** Resolves once the clock has advanced by `ms` (on this clock, installed or not). */
  delay(ms: number): Promise<void>;
  /**
   * Makes this clock the process's: replaces the timer globals (and
   * `node:timers`, `node:timers/promises`' `setTimeout` and `perf_hooks`' `performance.now`
   * where the runtime has them). Throws a `VirtualClockError`
   * (`GGS_ERR_CLOCK_INSTALLED`) while any virtual clock is installed.
   */
  install(): void;
  /**
   * Puts every original back. Timers still pending on the virtual clock are
   * dropped (they never fire). Does nothing when this clock is not installed.
   */
  uninstall(): void;
}

/** The controller whose clock is installed, if any. */
let current: Controller | undefined;

class Controller implements TimeController {
  #clock: Clock;
  #restoreSignal: (() => void) | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #start: number;
  readonly #loopLimit: number;

  constructor(start: number, loopLimit: number) {
    this.#start = start;
    this.#loopLimit = loopLimit;
    this.#clock = createClock(start, loopLimit);
  }

  get now(): number {
    return this.#clock.now;
  }

  get isInstalled(): boolean {
    return current === this;
  }

  get pendingTimers(): number {
    return this.#clock.countTimers();
  }

  advance(ms: number): Promise<void> {
    assertMs("Cannot advance the clock", "ms", ms);
    return this.#serial(async () => {
      await this.#clock.tickAsync(ms);
    });
  }

  jumpTo(timestamp: number): Promise<void> {
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
      fail("Cannot jump", "timestamp", "a finite number", timestamp, typeof timestamp === "number");
    }
    return this.#serial(async () => {
      const clock = this.#clock;
      if (timestamp < clock.now) {
        fail(
          "Cannot jump",
          "timestamp",
          `at least the clock's time (${clock.now})`,
          timestamp,
          true,
        );
      }
      await clock.tickAsync(timestamp - clock.now);
    });
  }

  runAll(): Promise<void> {
    return this.#serial(async () => {
      const clock = this.#clock;
      for (let fired = 0; hasTimeouts(clock); fired++) {
        if (fired >= this.#loopLimit) {
          throw new VirtualClockError(
            `Cannot run all timers: ${this.#loopLimit} timers fired and timeouts are still ` +
              `scheduled (a timer that schedules another, like every() or poll()); ` +
              `use advance(ms) instead, or raise "loopLimit"`,
            "GGS_ERR_CLOCK_LOOP",
          );
        }
        await clock.nextAsync();
      }
    });
  }

  reset(): void {
    const clock = this.#clock;
    clock.reset();
    if (clock.now !== this.#start) clock.setSystemTime(this.#start);
  }

  delay(ms: number): Promise<void> {
    assertMs("Cannot delay", "ms", ms);
    return new Promise((resolve) => {
      this.#clock.setTimeout(() => resolve(), ms);
    });
  }

  install(): void {
    if (current !== undefined || (Date as { isFake?: boolean }).isFake === true) {
      throw new VirtualClockError(
        current === this
          ? "Cannot install the virtual clock: it is already installed (call uninstall() first)"
          : "Cannot install the virtual clock: another virtual clock is installed " +
            "(uninstall it first)",
        "GGS_ERR_CLOCK_INSTALLED",
      );
    }
    const own = this.#clock;
    const clock = install({
      now: own.now,
      toFake: FAKED,
      loopLimit: this.#loopLimit,
      // A real timer started before install() can still be cleared while installed.
      shouldClearNativeTimers: true,
    });
    // What was scheduled on the private timeline (delay()) moves to the installed clock.
    for (const timer of own.timers?.values() ?? []) {
      const left = (timer.callAt ?? own.now) - own.now;
      if (timer.type === "Interval") {
        clock.setInterval(timer.func, timer.interval, ...(timer.args ?? []));
      } else clock.setTimeout(timer.func, left, ...(timer.args ?? []));
    }
    this.#restoreSignal = patchAbortSignalTimeout(clock);
    this.#clock = clock;
    current = this;
  }

  uninstall(): void {
    if (current !== this) return;
    current = undefined;
    this.#restoreSignal?.();
    this.#restoreSignal = undefined;
    const now = this.#clock.now;
    this.#clock.uninstall();
    this.#clock = createClock(now, this.#loopLimit);
  }

  [Symbol.dispose](): void {
    this.uninstall();
  }

  /**
   * @internal Advances the clock, timer by timer, until `done()` holds or `ms`
   * have passed; resolves to whether `done()` held.
   */
  runUntil(done: () => boolean, ms: number): Promise<boolean> {
    return this.#serial(async () => {
      const clock = this.#clock;
      const end = clock.now + ms;
      while (!done()) {
        const next = clock.timerHeap?.peek()?.callAt;
        if (next === undefined || next > end) {
          if (clock.now < end) await clock.tickAsync(end - clock.now);
          return done();
        }
        await clock.tickAsync(Math.max(0, next - clock.now));
      }
      return true;
    });
  }

  /** Runs `op` after every clock operation called before it. */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function hasTimeouts(clock: Clock): boolean {
  for (const timer of clock.timers?.values() ?? []) {
    if (timer.type !== "Interval") return true;
  }
  return false;
}

/** @internal The controller whose clock is installed, if any (for the kit's assertions). */
export function installedController(): Controller | undefined {
  return current;
}

/**
 * Creates a virtual clock (not installed: call `install()`, and `uninstall()`
 * when done, or declare it with `using`). The names and methods of
 * go-go-scope's `createTimeController`; unlike it, every timer source is
 * covered, the methods that move time return promises that let promise
 * callbacks run between timers, `runAll()` stops at intervals, and a second
 * `install()` throws instead of stacking clocks.
 *
 * @param options `now` (starting time, default 0) and `loopLimit` (default 1000).
 * @returns The controller.
 * @throws {TypeError | RangeError} When an option is invalid.
 *
 * @example
 * ```ts
 * import { createTimeController } from "@go-go-scope/adapter-fastify/testing";
 *
 * const time = createTimeController();
 * time.install();
 * try {
 *   const fired: number[] = [];
 *   setTimeout(() => fired.push(Date.now()), 100);
 *   const signal = AbortSignal.timeout(250);
 *   await time.advance(300);
 *   console.log(fired, signal.aborted); // [ 100 ] true
 * } finally {
 *   time.uninstall();
 * }
 * ```
 */
export function createTimeController(options?: TimeControllerOptions): TimeController {
  let start = 0;
  let loopLimit = DEFAULT_LOOP_LIMIT;
  if (options !== undefined) {
    if (typeof options !== "object" || options === null) {
      fail(WHAT, "options", "an object", options, false);
    }
    const { now, loopLimit: limit } = options;
    if (now !== undefined) {
      const ms = now instanceof Date ? now.getTime() : now;
      if (typeof ms !== "number") fail(WHAT, "now", "a number or a Date", now, false);
      if (!Number.isFinite(ms)) fail(WHAT, "now", "a finite time", now, true);
      start = ms;
    }
    if (limit !== undefined) {
      if (typeof limit !== "number") fail(WHAT, "loopLimit", "an integer > 0", limit, false);
      if (!Number.isInteger(limit) || limit <= 0) {
        fail(WHAT, "loopLimit", "an integer > 0", limit, true);
      }
      loopLimit = limit;
    }
  }
  return new Controller(start, loopLimit);
}
