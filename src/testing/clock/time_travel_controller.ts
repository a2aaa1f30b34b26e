/**
 * `createTimeTravelController()`: a standalone timeline of described events
 * with intervals, absolute jumps and a history of what ran. It replaces
 * nothing global.
 *
 * @module
 */
import { LOOP_LIMIT, Timeline, type TimelineEntry } from "./_timeline.ts";
import { assertMs, fail } from "../_validate.ts";

/**
 * One executed event of a {@linkcode TimeTravelController}'s history.
 *
 * @example
 * ```ts
 * import { createTimeTravelController, type HistoryEntry } from "@go-go-scope/adapter-fastify/testing";
 *
 * const time = createTimeTravelController();
 * time.setTimeout(() => {}, 10, "ping");
 * time.advance(10);
 * const entry: HistoryEntry | undefined = time.history[0];
 * console.log(entry); // { time: 10, action: "ping" }
 * ```
 */
export interface HistoryEntry {
  /** When the event ran. */
  time: number;
  /** Its description, or `event-<id>`. */
  action: string;
}

/**
 * A standalone timeline (go-go-scope's interface): events scheduled with a
 * description, fired synchronously by `advance()` / `jumpTo()` / `runAll()`.
 *
 * @example
 * ```ts
 * import { createTimeTravelController, type TimeTravelController } from "@go-go-scope/adapter-fastify/testing";
 *
 * const time: TimeTravelController = createTimeTravelController();
 * const results: number[] = [];
 * time.setTimeout(() => results.push(1), 100);
 * time.setTimeout(() => results.push(2), 200);
 * time.jumpTo(150);
 * console.log(results, time.nextEventTime()); // [ 1 ] 200
 * ```
 */
export interface TimeTravelController {
  /** The timeline's time in milliseconds (starts at 0). */
  readonly now: number;
  /** The scheduled events, earliest first. */
  readonly timeline: Array<{ id: number; time: number; description?: string }>;
  /** What ran so far, in order. */
  readonly history: HistoryEntry[];
  /** Schedules `callback` in `delay` ms; returns its id. */
  setTimeout(callback: () => void, delay: number, description?: string): number;
  /** Cancels an event or an interval; true if there was one. */
  clearTimeout(id: number): boolean;
  /** Schedules `callback` every `delay` ms (at least 1); returns its id (cancel with `clearTimeout`). */
  setInterval(callback: () => void, delay: number, description?: string): number;
  /** Moves time forward by `ms`, running what falls due in order. */
  advance(ms: number): void;
  /** Moves time to `targetTime`; throws a RangeError for a time in the past. */
  jumpTo(targetTime: number): void;
  /** The time of the next event, or `Infinity` when none is scheduled. */
  nextEventTime(): number;
  /**
   * Runs events in time order until no one-off event is left (intervals run
   * along the way but do not keep it going). Throws a `VirtualClockError`
   * (`GGS_ERR_CLOCK_LOOP`) after 1000 events.
   */
  runAll(): void;
  /** Forgets every event and the history; time back to 0. */
  reset(): void;
  /** Prints the timeline with `console.log`. */
  printTimeline(): void;
}

/**
 * Creates a {@linkcode TimeTravelController}. Unlike go-go-scope's, `runAll()`
 * returns when only intervals are left (go-go-scope's never returns then), an
 * interval of 0 ms repeats every 1 ms instead of freezing `advance()`, and
 * bad delays or times throw.
 *
 * @returns The controller.
 *
 * @example
 * ```ts
 * import { createTimeTravelController } from "@go-go-scope/adapter-fastify/testing";
 *
 * const time = createTimeTravelController();
 * let ticks = 0;
 * time.setInterval(() => ticks++, 100, "tick");
 * time.setTimeout(() => {}, 350, "done");
 * time.runAll();
 * console.log(ticks, time.now, time.history.at(-1)); // 3 350 { time: 350, action: "done" }
 * ```
 */
export function createTimeTravelController(): TimeTravelController {
  const line = new Timeline();
  const history: HistoryEntry[] = [];
  const record = (e: TimelineEntry, at: number) =>
    history.push({ time: at, action: e.description ?? `event-${e.id}` });
  return {
    get now(): number {
      return line.now;
    },
    get timeline(): Array<{ id: number; time: number; description?: string }> {
      return line.sorted().map((e) =>
        e.description === undefined
          ? { id: e.id, time: e.time }
          : { id: e.id, time: e.time, description: e.description }
      );
    },
    get history(): HistoryEntry[] {
      return [...history];
    },
    setTimeout(callback: () => void, delay: number, description?: string): number {
      return line.schedule("Cannot schedule", callback, delay, { description });
    },
    clearTimeout(id: number): boolean {
      return line.cancel(id);
    },
    setInterval(callback: () => void, delay: number, description?: string): number {
      return line.schedule("Cannot schedule an interval", callback, delay, {
        interval: true,
        // go-go-scope's naming of an interval's occurrences.
        description: `${description || "interval"} (repeat)`,
      });
    },
    advance(ms: number): void {
      assertMs("Cannot advance", "ms", ms);
      line.runUntil(line.now + ms, record);
    },
    jumpTo(targetTime: number): void {
      if (typeof targetTime !== "number" || !Number.isFinite(targetTime)) {
        fail(
          "Cannot jump",
          "targetTime",
          "a finite number",
          targetTime,
          typeof targetTime === "number",
        );
      }
      if (targetTime < line.now) {
        fail(
          "Cannot jump",
          "targetTime",
          `at least the current time (${line.now})`,
          targetTime,
          true,
        );
      }
      line.runUntil(targetTime, record);
    },
    nextEventTime(): number {
      return line.first()?.time ?? Infinity;
    },
    runAll(): void {
      for (let fired = 0; line.hasTimeouts(); fired++) {
        if (fired >= LOOP_LIMIT) throw Timeline.loopError("Cannot run all events");
        line.fire(record);
      }
    },
    reset(): void {
      line.reset();
      history.length = 0;
    },
    printTimeline(): void {
      console.log("Timeline:");
      for (const e of line.sorted()) {
        console.log(`  ${e.time}ms: ${e.description ?? `event-${e.id}`}`);
      }
    },
  };
}
