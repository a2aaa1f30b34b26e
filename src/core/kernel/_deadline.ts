// Deadlines without a timer each. Every deadline of the same length joins one
// list: deadlines started later end later, so the list stays in order, one
// timer serves the whole list (armed for its head), and cancelling a deadline
// is an O(1) unlink. Under load a request scope's `timeout` costs a list
// append and an unlink instead of a setTimeout and a clearTimeout (which cost
// microseconds in some runtimes). A list that empties clears its timer, so no
// timer outlives the deadlines that need it; on Node it keeps the timer armed
// but unref'd instead (see remove()), and a sweep clears it.
//
// Long deadlines: timers take at most 2^31-1 ms (a larger delay is treated as
// 1 ms, with a TimeoutOverflowWarning on Node). A list's timer is armed for at
// most `limits.maxDelay` and re-armed from its head's real end when it fires
// early, so a 30-day deadline costs one timer every ~24.8 days.
//
// Memory: a list stays in the map while empty, so the common case (one or a
// few timeout values) never deletes and recreates a list per request. Empty
// lists are counted; once they are more than half of the map (and more than
// a handful), one sweep deletes them all. A sweep of n lists follows at least
// n/2 lists emptying, so it costs O(1) per deadline, and after every deadline
// ended at most SWEEP_MIN empty lists remain, whatever the mix of lengths.
import type { Timer } from "../base/_symbols.ts";

/** @internal Timer limits; tests shrink `maxDelay` to exercise re-arming. */
export const limits: { maxDelay: number } = { maxDelay: 2 ** 31 - 1 };

const SWEEP_MIN = 32;

/** A timer handle that can stop holding the process open (Node's `Timeout`). */
interface Unrefable {
  ref(): unknown;
  unref(): unknown;
}

function unrefable(timer: Timer): timer is Timer & Unrefable {
  return typeof timer === "object" && timer !== null &&
    typeof (timer as Partial<Unrefable>).unref === "function";
}

/** A started deadline; `cancel()` it when the work it bounds is over. */
export class Deadline<A> {
  prev: Deadline<unknown> | undefined;
  next: Deadline<unknown> | undefined;
  at = 0;
  linked = false;
  constructor(
    readonly list: DeadlineList,
    readonly expire: (arg: A, ms: number) => void,
    readonly arg: A,
  ) {}

  /** Stops the deadline; it will not expire. Idempotent. */
  cancel(): void {
    this.list.remove(this as Deadline<unknown>);
  }
}

class DeadlineList {
  head: Deadline<unknown> | undefined;
  tail: Deadline<unknown> | undefined;
  timer: Timer | undefined;
  /** False once a sweep deleted it from `lists` (only unlinked deadlines still point to it). */
  inMap = true;
  /** The list is empty and its (Node) timer, kept armed, is unref'd. */
  idle = false;
  /**
   * The `setTimeout` the timer was armed with, and its `clearTimeout`: a
   * virtual clock (the testing kit) may replace both between two deadlines,
   * and an idle timer armed under one clock must not be reused under another.
   */
  armedWith: typeof setTimeout | undefined;
  clearWith: typeof clearTimeout | undefined;
  constructor(readonly ms: number) {}

  add(d: Deadline<unknown>): void {
    d.at = performance.now() + this.ms;
    d.linked = true;
    d.prev = this.tail;
    if (this.tail === undefined) {
      this.head = d;
      if (this.inMap) emptyCount--;
    } else this.tail.next = d;
    this.tail = d;
    // Kept referenced: pending work under a deadline must see it fire.
    if (this.timer === undefined) this.timer = arm(this, this.ms);
    else if (this.idle) {
      this.idle = false;
      if (this.armedWith === setTimeout) (this.timer as Timer & Unrefable).ref();
      else {
        // The timer functions changed since it was armed (a virtual clock was
        // installed or removed): arm anew with the current ones.
        this.clearWith!(this.timer);
        this.timer = arm(this, this.ms);
      }
    }
  }

  remove(d: Deadline<unknown>): void {
    if (!d.linked) return;
    this.unlink(d);
    if (this.head === undefined) {
      if (this.timer !== undefined) {
        if (unrefable(this.timer)) {
          // Node: keep the emptied list's timer armed but unref'd, so that it
          // no longer holds the process open. A deadline that starts before it
          // fires re-refs it instead of arming a new one: Node creates and
          // deletes its per-duration timer list whenever the last timer of a
          // duration is cleared, which costs more than the ref/unref pair.
          this.idle = true;
          this.timer.unref();
        } else {
          this.clearWith!(this.timer);
          this.timer = undefined;
        }
      }
      emptied(this);
    }
  }

  unlink(d: Deadline<unknown>): void {
    d.linked = false;
    const { prev, next } = d;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    d.prev = d.next = undefined;
  }
}

function arm(list: DeadlineList, delay: number): Timer {
  list.armedWith = setTimeout;
  list.clearWith = clearTimeout;
  return setTimeout(fire, Math.min(Math.max(0, delay), limits.maxDelay), list);
}

function fire(list: DeadlineList): void {
  list.timer = undefined;
  list.idle = false;
  // Timers may fire a fraction of a millisecond before the fractional deadline.
  const now = performance.now() + 1;
  for (let d = list.head; d !== undefined && d.at <= now; d = list.head) {
    list.unlink(d);
    // Counted at once, so a deadline that `expire` starts anew is counted exactly.
    if (list.head === undefined) emptied(list);
    d.expire(d.arg, list.ms);
  }
  const head = list.head;
  if (head !== undefined && list.timer === undefined) {
    list.timer = arm(list, head.at - performance.now());
  }
}

const lists = new Map<number, DeadlineList>();
// How many lists in `lists` are empty: a single timeout value flips it
// between 0 and 1 and never sweeps.
let emptyCount = 0;

function emptied(list: DeadlineList): void {
  if (!list.inMap) return;
  if (++emptyCount > SWEEP_MIN && emptyCount * 2 > lists.size) sweep();
}

function sweep(): void {
  for (const [ms, list] of lists) {
    if (list.head === undefined) {
      lists.delete(ms);
      list.inMap = false;
      // An idle (unref'd) timer would keep the list alive until it fires.
      if (list.timer !== undefined) {
        list.clearWith!(list.timer);
        list.timer = undefined;
        list.idle = false;
      }
    }
  }
  emptyCount = 0;
}

/** @internal How many deadline lists exist (live or empty), for leak tests. */
export function deadlineListCount(): number {
  return lists.size;
}

/** Starts a deadline of `ms` milliseconds that calls `expire(arg, ms)` unless cancelled first. */
export function startDeadline<A>(
  ms: number,
  expire: (arg: A, ms: number) => void,
  arg: A,
): Deadline<A> {
  let list = lists.get(ms);
  if (list === undefined) {
    lists.set(ms, list = new DeadlineList(ms));
    emptyCount++; // new and empty until add() below
  }
  const d = new Deadline(list, expire, arg);
  list.add(d as Deadline<unknown>);
  return d;
}
