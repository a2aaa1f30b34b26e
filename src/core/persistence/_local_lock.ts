// The state of a lock without a key: holders and a priority-ordered queue of
// waiters, all in this object. Used by `Lock` (lock.ts).
import { TimeoutError } from "../base/errors.ts";
import { LockGuard, type LockStats } from "./lock_guard.ts";
import type { Timer } from "../base/_symbols.ts";

type Kind = "read" | "write" | "exclusive";

interface Waiter {
  kind: Kind;
  priority: number;
  resolve: (guard: LockGuard) => void;
  reject: (error: unknown) => void;
  timer: Timer | undefined;
}

export class LocalLockState {
  #readers = 0;
  #writer = false;
  #queue: Waiter[] = [];
  #aborted = false;

  get isLocked(): boolean {
    return this.#writer || this.#readers > 0;
  }

  get stats(): LockStats {
    return {
      readerCount: this.#readers,
      writerActive: this.#writer,
      exclusiveActive: this.#writer,
      pendingRequests: this.#queue.length,
    };
  }

  tryTake(kind: Kind): LockGuard | null {
    if (kind === "read") {
      if (this.#writer || this.#queue.some((w) => w.kind !== "read")) return null;
    } else if (this.isLocked || this.#queue.length > 0) return null;
    return this.#grant(kind);
  }

  take(
    kind: Kind,
    priority: number,
    timeout: number | undefined,
    name: string,
  ): Promise<LockGuard> {
    if (this.#queue.length === 0 && this.#canGrant(kind)) return Promise.resolve(this.#grant(kind));
    if (timeout === 0) {
      return Promise.reject(new TimeoutError(`Lock "${name}" was not acquired within 0 ms`, 0));
    }
    return new Promise<LockGuard>((resolve, reject) => {
      const waiter: Waiter = { kind, priority, resolve, reject, timer: undefined };
      // Higher priority first; equal priorities keep arrival order.
      let i = this.#queue.length;
      while (i > 0 && this.#queue[i - 1]!.priority < priority) i--;
      this.#queue.splice(i, 0, waiter);
      if (timeout !== undefined) {
        waiter.timer = setTimeout(() => {
          const at = this.#queue.indexOf(waiter);
          if (at < 0) return;
          this.#queue.splice(at, 1);
          reject(new TimeoutError(`Lock "${name}" was not acquired within ${timeout} ms`, timeout));
          this.#drain(); // readers queued behind this writer may go now
        }, timeout);
      }
    });
  }

  abort(error: Error): void {
    this.#aborted = true;
    const queue = this.#queue;
    this.#queue = [];
    for (const w of queue) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(error);
    }
  }

  #canGrant(kind: Kind): boolean {
    return kind === "read" ? !this.#writer : !this.isLocked;
  }

  #grant(kind: Kind): LockGuard {
    if (kind === "read") this.#readers++;
    else this.#writer = true;
    return new LockGuard(() => this.#release(kind), kind);
  }

  #release(kind: Kind): void {
    if (kind === "read") this.#readers--;
    else this.#writer = false;
    this.#drain();
  }

  #drain(): void {
    if (this.#aborted) return;
    while (this.#queue.length > 0 && this.#canGrant(this.#queue[0]!.kind)) {
      const w = this.#queue.shift()!;
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.resolve(this.#grant(w.kind));
    }
  }
}
