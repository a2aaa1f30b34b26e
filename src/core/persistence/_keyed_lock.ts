// The state of a lock with a key: tries through a `LockProvider` under
// go-go-scope's entry names, waits between tries, and extends and releases
// what it holds. Used by `Lock` (lock.ts).
import { reasonToError, TimeoutError } from "../base/errors.ts";
import type { LockHandle, LockProvider } from "./persistence.ts";
import { whenConnected } from "./_connect.ts";
import type { Logger } from "../base/types.ts";
import { ABORT, type Timer } from "../base/_symbols.ts";
import { LockGuard } from "./lock_guard.ts";

/** The owner under which readers check, together, that no writer holds `lock:write:<key>`. */
const READERS = "go-go-scope:readers";

interface Sleeper {
  timer: Timer | undefined;
  off: (() => void) | undefined;
  wake: () => void;
  reject: (error: unknown) => void;
}

interface Held {
  /** `undefined` while a writer waits for readers with its write key held. */
  guard: LockGuard | undefined;
  /** In order of acquisition. */
  handles: LockHandle[];
  timer: Timer | undefined;
}

/** One try at a keyed lock: the handles taken, or the provider key that was busy. */
interface Attempt {
  handles?: LockHandle[];
  blocked?: string;
}

export class KeyedLockState {
  readonly #key: string;
  readonly #ttl: number;
  readonly #owner: string;
  readonly #provider: LockProvider;
  readonly #getLogger: () => Logger;
  #aborted = false;
  #reason: unknown;
  #sleepers: Set<Sleeper> | undefined;
  #held: Set<Held> | undefined;
  #seq = 0;
  #turnTaken = false;

  constructor(
    key: string,
    ttl: number,
    owner: string,
    provider: LockProvider,
    getLogger: () => Logger,
  ) {
    this.#key = key;
    this.#ttl = ttl;
    this.#owner = owner;
    this.#provider = provider;
    this.#getLogger = getLogger;
  }

  /** The logger of the lock's scope. */
  get #logger(): Logger {
    return this.#getLogger();
  }

  /** Rejects every waiter and releases what is held; the release, when something was. */
  abort(reason: unknown, error: Error): Promise<void> | undefined {
    this.#aborted = true;
    this.#reason = reason;
    if (this.#sleepers !== undefined) {
      for (const s of this.#sleepers) {
        if (s.timer !== undefined) clearTimeout(s.timer);
        s.off?.();
        s.reject(error);
      }
      this.#sleepers = undefined;
    }
    const held = this.#held;
    this.#held = undefined;
    return held === undefined ? undefined : this.#dropAll(held);
  }

  /** Tries until it holds the lock, the lock aborts, or `timeout` passes. */
  async acquire(
    type: "read" | "write" | "exclusive",
    timeout: number | undefined,
    poll: number,
  ): Promise<LockGuard> {
    const provider = this.#provider;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    const turn = type !== "read";
    let lastError: unknown;
    for (;;) {
      let attempt: Attempt | undefined;
      // An exclusive or write hold of one Lock object at a time: some
      // providers (go-go-scope's) let an owner take again what it holds.
      if (!turn || !this.#turnTaken) {
        if (turn) this.#turnTaken = true;
        try {
          const connecting = whenConnected(provider);
          if (connecting !== undefined) await connecting;
          attempt = await this.#attempt(provider, type, deadline, poll);
        } catch (error) {
          // A database deadlock, a connection blip: a reason to try again.
          if (!this.#aborted) {
            if (lastError === undefined) {
              this.#logger.warn(
                { err: error, lock: this.#key },
                "acquiring a lock failed; trying again until its timeout",
              );
            }
            lastError = error;
          }
        }
        if (turn && attempt?.handles === undefined) this.#giveTurn();
      }
      if (this.#aborted) {
        if (attempt?.handles !== undefined) await this.#dropHandles(attempt.handles);
        throw reasonToError(this.#reason);
      }
      if (attempt?.handles !== undefined) return this.#hold(attempt.handles, type);
      const left = deadline - performance.now();
      if (left <= 0) throw this.#timedOut(timeout!, lastError);
      await this.#sleep(Math.min(poll, left), provider, attempt?.blocked);
    }
  }

  /**
   * One try, in go-go-scope's names: `lock:exclusive:<key>` for `acquire()`,
   * `lock:write:<key>` for `write()`; a reader checks `lock:write:<key>` is
   * free (holding it meanwhile with the other readers), then holds
   * `lock:read:<key>:<owner>`. With a provider that has shared holds
   * (`supportsSharedMode`) the readers share `lock:read:<key>` instead, and a
   * writer also takes it exclusively, waiting (with `lock:write:<key>` held,
   * so no new reader enters) until the readers are gone.
   */
  async #attempt(
    provider: LockProvider,
    type: "read" | "write" | "exclusive",
    deadline: number,
    poll: number,
  ): Promise<Attempt> {
    const key = this.#key;
    const ttl = this.#ttl;
    if (type === "exclusive") {
      const name = `lock:exclusive:${key}`;
      const handle = await provider.acquire(name, ttl, this.#owner);
      return handle === null ? { blocked: name } : { handles: [handle] };
    }
    const write = `lock:write:${key}`;
    const shared = provider.supportsSharedMode === true;
    if (type === "write") {
      const handle = await provider.acquire(write, ttl, this.#owner);
      if (handle === null) return { blocked: write };
      if (!shared) return { handles: [handle] };
      return await this.#drainReaders(provider, handle, deadline, poll);
    }
    const owner = `${this.#owner}:${++this.#seq}`;
    // Readers check for a writer together: as shared holders of the write
    // entry, or as its one owner, which go-go-scope's adapters let take it again.
    const probe = shared
      ? await provider.acquire(write, ttl, owner, "shared")
      : await provider.acquire(write, ttl, READERS);
    if (probe === null) return { blocked: write };
    let handle: LockHandle | null = null;
    try {
      handle = shared
        ? await provider.acquire(`lock:read:${key}`, ttl, owner, "shared")
        : await provider.acquire(`lock:read:${key}:${owner}`, ttl, owner);
    } finally {
      await this.#dropHandles([probe]);
    }
    return handle === null ? { blocked: write } : { handles: [handle] };
  }

  /** A writer holding `lock:write:<key>` waits until it can hold `lock:read:<key>` alone. */
  async #drainReaders(
    provider: LockProvider,
    write: LockHandle,
    deadline: number,
    poll: number,
  ): Promise<Attempt> {
    const readers = `lock:read:${this.#key}`;
    // Held (and extended) while waiting, released on abort like any held lock.
    const pending = this.#track([write]);
    try {
      for (;;) {
        const handle = await provider.acquire(readers, this.#ttl, this.#owner, "exclusive");
        if (handle !== null) {
          if (this.#untrack(pending)) return { handles: [write, handle] };
          await this.#dropHandles([handle]); // aborted meanwhile: released already
          return { blocked: readers };
        }
        const left = deadline - performance.now();
        if (left <= 0 || this.#aborted) break;
        await this.#sleep(Math.min(poll, left), provider, readers);
      }
    } catch (error) {
      if (this.#untrack(pending)) await this.#dropHandles([write]);
      throw error;
    }
    if (this.#untrack(pending)) await this.#dropHandles([write]);
    return { blocked: readers };
  }

  #timedOut(timeout: number, lastError: unknown): TimeoutError {
    const why = lastError === undefined
      ? ""
      : `; the provider failed: ${
        lastError instanceof Error ? lastError.message : String(lastError)
      }`;
    return new TimeoutError(
      `Lock "${this.#key}" was not acquired within ${timeout} ms${why}`,
      timeout,
      lastError === undefined ? undefined : { cause: lastError },
    );
  }

  /** Frees the exclusive turn and wakes this Lock's own waiters. */
  #giveTurn(): void {
    this.#turnTaken = false;
    if (this.#sleepers === undefined) return;
    for (const s of [...this.#sleepers]) s.wake();
  }

  #sleep(ms: number, provider: LockProvider, key: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sleepers = this.#sleepers ??= new Set();
      const s: Sleeper = { timer: undefined, off: undefined, wake: () => {}, reject };
      s.wake = (): void => {
        if (!sleepers.delete(s)) return;
        clearTimeout(s.timer);
        s.off?.();
        resolve();
      };
      s.timer = setTimeout(s.wake, ms);
      if (key !== undefined) s.off = provider.onRelease?.(key, s.wake);
      sleepers.add(s);
    });
  }

  /** Handles held but not yet a guard's (a writer waiting for readers): extended, released on abort. */
  #track(handles: LockHandle[]): Held {
    const held: Held = { guard: undefined, handles, timer: undefined };
    const set = this.#held ??= new Set();
    set.add(held);
    this.#scheduleExtend(held, set);
    return held;
  }

  /** Stops tracking `held`; `false` when it was released already (the lock aborted). */
  #untrack(held: Held): boolean {
    if (held.timer !== undefined) clearTimeout(held.timer);
    held.timer = undefined;
    return this.#held?.delete(held) === true;
  }

  #hold(handles: LockHandle[], type: "read" | "write" | "exclusive"): LockGuard {
    const held: Held = { guard: undefined, handles, timer: undefined };
    const set = this.#held ??= new Set();
    const turn = type !== "read";
    held.guard = new LockGuard(() => {
      if (held.timer !== undefined) clearTimeout(held.timer);
      if (!set.delete(held)) return;
      const released = this.#dropHandles(handles);
      if (!turn) return released;
      return released.finally(() => this.#giveTurn());
    }, type);
    set.add(held);
    this.#scheduleExtend(held, set);
    return held.guard;
  }

  #scheduleExtend(held: Held, set: Set<Held>): void {
    held.timer = setTimeout(async () => {
      held.timer = undefined;
      let ok = false;
      try {
        const extended = await Promise.all(held.handles.map((h) => h.extend(this.#ttl)));
        ok = extended.every(Boolean);
      } catch (error) {
        this.#logger.error({ err: error, lock: this.#key }, "extending a held lock failed");
      }
      if (!set.has(held)) return;
      if (ok) this.#scheduleExtend(held, set);
      else this.#logger.warn({ lock: this.#key }, "a held lock expired or was taken over");
    }, Math.max(1, Math.floor(this.#ttl * 0.6)));
  }

  /** Releases `handles` in reverse order of acquisition; failures are logged. */
  async #dropHandles(handles: readonly LockHandle[]): Promise<void> {
    for (let i = handles.length - 1; i >= 0; i--) {
      try {
        await handles[i]!.release();
      } catch (error) {
        this.#logger.error({ err: error, lock: this.#key }, "releasing a lock failed");
      }
    }
  }

  async #dropAll(held: Set<Held>): Promise<void> {
    const all: Promise<void>[] = [];
    for (const h of held) {
      if (h.timer !== undefined) clearTimeout(h.timer);
      h.guard?.[ABORT]();
      all.push(this.#dropHandles(h.handles));
    }
    await Promise.all(all);
    this.#turnTaken = false;
  }
}
