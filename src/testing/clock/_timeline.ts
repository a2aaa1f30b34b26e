// A manual timeline for the standalone timers (createControlledTimer,
// createTimeTravelController): callbacks ordered by time, then by scheduling
// order; nothing global is replaced.
import { assertMs } from "../_validate.ts";
import { VirtualClockError } from "../errors.ts";

/** A scheduled callback. */
export interface TimelineEntry {
  readonly id: number;
  time: number;
  seq: number;
  readonly callback: () => void;
  readonly description: string | undefined;
  /** Set for intervals: the period (at least 1 ms). */
  readonly interval: number | undefined;
}

/** How many callbacks `runAll()`-like loops fire before they give up. */
export const LOOP_LIMIT = 1000;

/** The entries of a timeline and its time. */
export class Timeline {
  now = 0;
  #entries: TimelineEntry[] = [];
  #nextId = 1;
  #seq = 0;

  /** Schedules `callback` in `delay` ms (an interval when `interval` is true); returns its id. */
  schedule(
    what: string,
    callback: () => void,
    delay: number,
    options: { interval?: boolean; description?: string | undefined } = {},
  ): number {
    if (typeof callback !== "function") {
      throw new TypeError(`${what}: "callback" must be a function, received ${typeof callback}`);
    }
    assertMs(what, "delay", delay);
    // A zero period would fire forever at one instant: at least 1 ms, as in Node.
    const interval = options.interval ? Math.max(1, delay) : undefined;
    const entry: TimelineEntry = {
      id: this.#nextId++,
      time: this.now + (interval ?? delay),
      seq: this.#seq++,
      callback,
      description: options.description,
      interval,
    };
    this.#entries.push(entry);
    return entry.id;
  }

  /** Removes the entry with `id`; true if there was one. */
  cancel(id: number): boolean {
    const i = this.#entries.findIndex((e) => e.id === id);
    if (i === -1) return false;
    this.#entries.splice(i, 1);
    return true;
  }

  /** The entries, earliest first. */
  sorted(): TimelineEntry[] {
    return [...this.#entries].sort((a, b) => a.time - b.time || a.seq - b.seq);
  }

  /** The earliest entry, if any. */
  first(): TimelineEntry | undefined {
    let first: TimelineEntry | undefined;
    for (const e of this.#entries) {
      if (
        first === undefined || e.time < first.time || (e.time === first.time && e.seq < first.seq)
      ) {
        first = e;
      }
    }
    return first;
  }

  /** True while an entry that is not an interval is scheduled. */
  hasTimeouts(): boolean {
    return this.#entries.some((e) => e.interval === undefined);
  }

  /** Takes the earliest entry off (re-scheduling an interval), moves time to it and calls it. */
  fire(onFire?: (entry: TimelineEntry, at: number) => void): void {
    const entry = this.first();
    if (entry === undefined) return;
    const at = entry.time;
    this.now = Math.max(this.now, at);
    if (entry.interval === undefined) this.cancel(entry.id);
    else {
      entry.time += entry.interval;
      entry.seq = this.#seq++;
    }
    onFire?.(entry, at);
    entry.callback();
  }

  /** Fires, in order, every entry due up to `target` (those the callbacks add too); then time is `target`. */
  runUntil(target: number, onFire?: (entry: TimelineEntry, at: number) => void): void {
    for (let next = this.first(); next !== undefined && next.time <= target; next = this.first()) {
      this.fire(onFire);
    }
    this.now = Math.max(this.now, target);
  }

  /** The error of a loop that fired {@linkcode LOOP_LIMIT} callbacks and is still going. */
  static loopError(what: string): VirtualClockError {
    return new VirtualClockError(
      `${what}: ${LOOP_LIMIT} callbacks fired and more are scheduled (a callback that ` +
        `schedules another); advance(ms) instead`,
      "GGS_ERR_CLOCK_LOOP",
    );
  }

  /** Forgets every entry; time back to 0. */
  reset(): void {
    this.#entries = [];
    this.now = 0;
    this.#nextId = 1;
    this.#seq = 0;
  }
}
