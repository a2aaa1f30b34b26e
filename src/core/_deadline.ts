// Deadlines without a timer each. Every deadline of the same length joins one
// list: deadlines started later end later, so the list stays in order, one
// timer serves the whole list (armed for its head), and cancelling a deadline
// is an O(1) unlink. Under load a request scope's `timeout` costs a list
// append and an unlink instead of a setTimeout and a clearTimeout (which cost
// microseconds in some runtimes). A list that empties clears its timer, so no
// timer outlives the deadlines that need it.
import type { Timer } from "./_internal.ts";

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

/** A timer handle that can stop holding the process open (Node's `Timeout`). */
interface Unrefable {
  ref(): unknown;
  unref(): unknown;
}

function unrefable(timer: Timer): timer is Timer & Unrefable {
  return typeof timer === "object" && timer !== null &&
    typeof (timer as Partial<Unrefable>).unref === "function";
}

class DeadlineList {
  head: Deadline<unknown> | undefined;
  tail: Deadline<unknown> | undefined;
  timer: Timer | undefined;
  /** The list is empty and its (Node) timer, kept armed, is unref'd. */
  idle = false;
  constructor(readonly ms: number) {}

  add(d: Deadline<unknown>): void {
    d.at = performance.now() + this.ms;
    d.linked = true;
    d.prev = this.tail;
    if (this.tail === undefined) this.head = d;
    else this.tail.next = d;
    this.tail = d;
    // Kept referenced: pending work under a deadline must see it fire.
    if (this.timer === undefined) this.timer = setTimeout(fire, this.ms, this);
    else if (this.idle) {
      this.idle = false;
      (this.timer as Timer & Unrefable).ref();
    }
  }

  remove(d: Deadline<unknown>): void {
    if (!d.linked) return;
    this.unlink(d);
    if (this.head === undefined && this.timer !== undefined) {
      if (unrefable(this.timer)) {
        // Node: keep the emptied list's timer armed but unref'd, so that it no longer holds
        // the process open. A deadline that starts before it fires re-refs it instead of
        // arming a new one: Node creates and deletes its per-duration timer list whenever
        // the last timer of a duration is cleared, which costs more than the ref/unref pair.
        this.idle = true;
        this.timer.unref();
      } else {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
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

function fire(list: DeadlineList): void {
  list.timer = undefined;
  list.idle = false;
  // Timers may fire a fraction of a millisecond before the fractional deadline.
  const now = performance.now() + 1;
  for (let d = list.head; d !== undefined && d.at <= now; d = list.head) {
    list.unlink(d);
    d.expire(d.arg, list.ms);
  }
  const head = list.head;
  if (head !== undefined && list.timer === undefined) {
    list.timer = setTimeout(fire, Math.max(0, head.at - performance.now()), list);
  }
}

const lists = new Map<number, DeadlineList>();

/** Starts a deadline of `ms` milliseconds that calls `expire(arg, ms)` unless cancelled first. */
export function startDeadline<A>(
  ms: number,
  expire: (arg: A, ms: number) => void,
  arg: A,
): Deadline<A> {
  let list = lists.get(ms);
  if (list === undefined) lists.set(ms, list = new DeadlineList(ms));
  const d = new Deadline(list, expire, arg);
  list.add(d as Deadline<unknown>);
  return d;
}
