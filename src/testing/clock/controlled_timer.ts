/**
 * `createControlledTimer()`: a standalone timer with its own `setTimeout`,
 * advanced by hand. It replaces nothing global; hand its `setTimeout` and
 * `clearTimeout` to the code under test.
 *
 * @module
 */
import { nextMacrotask } from "../_real_timers.ts";
import { LOOP_LIMIT, Timeline } from "./_timeline.ts";
import { assertMs } from "../_validate.ts";

/**
 * A standalone timer (go-go-scope's interface): `setTimeout` schedules on it,
 * `advance()` fires what falls due, synchronously and in order.
 *
 * @example
 * ```ts
 * import { createControlledTimer, type ControlledTimer } from "@go-go-scope/adapter-fastify/testing";
 *
 * const timer: ControlledTimer = createControlledTimer();
 * const fired: number[] = [];
 * timer.setTimeout(() => fired.push(1), 100);
 * timer.setTimeout(() => fired.push(2), 200);
 * timer.advance(150);
 * console.log(fired, timer.currentTime); // [ 1 ] 150
 * ```
 */
export interface ControlledTimer {
  /** The timer's time in milliseconds (starts at 0). */
  readonly currentTime: number;
  /** Schedules `callback` in `delay` ms; returns its id. */
  setTimeout(callback: () => void, delay: number): number;
  /** Cancels a scheduled callback (an unknown id is ignored). */
  clearTimeout(id: number): void;
  /**
   * Moves time forward by `ms`, calling every callback due on the way (and
   * those they schedule within the window) synchronously, in time order.
   */
  advance(ms: number): void;
  /**
   * Calls every scheduled callback in time order, letting pending promise
   * callbacks run after each one, until none is left. Rejects with a
   * `VirtualClockError` (`GGS_ERR_CLOCK_LOOP`) after 1000 callbacks.
   */
  flush(): Promise<void>;
  /** Forgets every callback; time back to 0. */
  reset(): void;
}

/**
 * Creates a {@linkcode ControlledTimer}. Unlike go-go-scope's, `flush()` lets
 * promise callbacks run between timers and stops after 1000 callbacks instead
 * of looping forever on a callback that re-schedules itself, callbacks due at
 * the same time run in scheduling order, and bad delays throw.
 *
 * @returns The timer.
 *
 * @example
 * ```ts
 * import { createControlledTimer } from "@go-go-scope/adapter-fastify/testing";
 *
 * const timer = createControlledTimer();
 * let timedOut = false;
 * const id = timer.setTimeout(() => (timedOut = true), 5000);
 * timer.advance(4999);
 * console.log(timedOut); // false
 * timer.clearTimeout(id);
 * await timer.flush();
 * console.log(timedOut); // false
 * ```
 */
export function createControlledTimer(): ControlledTimer {
  const line = new Timeline();
  return {
    get currentTime(): number {
      return line.now;
    },
    setTimeout(callback: () => void, delay: number): number {
      return line.schedule("Cannot schedule", callback, delay);
    },
    clearTimeout(id: number): void {
      line.cancel(id);
    },
    advance(ms: number): void {
      assertMs("Cannot advance the timer", "ms", ms);
      line.runUntil(line.now + ms);
    },
    async flush(): Promise<void> {
      for (let fired = 0; line.first() !== undefined; fired++) {
        if (fired >= LOOP_LIMIT) throw Timeline.loopError("Cannot flush the timer");
        line.fire();
        await nextMacrotask();
      }
    },
    reset(): void {
      line.reset();
    },
  };
}
