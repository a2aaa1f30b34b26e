/**
 * Locks: an exclusive lock (mutex) or a read-write lock, in memory by default
 * or, with a `key`, held through a {@linkcode LockProvider} so that every
 * holder of the same key (in this process or, with a shared store, in others)
 * contends for it. Created by `scope.acquireLock()`; waiters are rejected with
 * the scope's abort reason when it aborts.
 *
 * @module
 */
import { reasonToError, TimeoutError } from "../base/errors.ts";
import { generateOwner, InMemoryLockProvider } from "./in_memory_lock_provider.ts";
import type { LockHandle, LockProvider } from "./persistence.ts";
import { gate, whenConnected } from "./_connect.ts";
import { lockProviderOf } from "./scope_persistence.ts";
import { defaultLogger, type Logger } from "../base/types.ts";
import { ABORT, type Abortable, ATTACH, DETACH, SET_OWNER, type Timer } from "../base/_symbols.ts";
import {
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  typeError,
} from "../base/_validate.ts";
import { LocalLockState } from "./_local_lock.ts";
import { LockGuard, type LockStats } from "./lock_guard.ts";
import {
  ACQUIRE_KNOWN,
  checkLockOptions,
  type LockAcquireOptions,
  type LockOptions,
} from "./lock_options.ts";

let nextLock = 0;
/** The owner under which readers check, together, that no writer holds `lock:write:<key>`. */
const READERS = "go-go-scope:readers";
let defaultProvider: InMemoryLockProvider | undefined;

/** What a lock needs from its scope. */
interface LockOwner {
  readonly logger: Logger;
  [ATTACH](d: Abortable): void;
  [DETACH](d: Abortable): void;
}

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

/**
 * An exclusive or read-write lock. Create one with `scope.acquireLock()`.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const rw = s.acquireLock({ allowMultipleReaders: true });
 * const a = await rw.read();
 * const b = await rw.read();
 * console.log(rw.stats.readerCount, rw.tryWrite()); // 2 null
 * await a.release();
 * await b.release();
 * ```
 */
export class Lock implements AsyncDisposable {
  readonly #name: string;
  readonly #rw: boolean;
  readonly #key: string | undefined;
  readonly #ttl: number;
  readonly #owner: string;
  readonly #provider: LockProvider | undefined;
  readonly #local: LocalLockState | undefined;
  #logger: Logger = defaultLogger;
  #owningScope: { [DETACH](d: Abortable): void } | undefined;
  #signal: AbortSignal | undefined;
  #aborted = false;
  #reason: unknown;
  #sleepers: Set<Sleeper> | undefined;
  #held: Set<Held> | undefined;
  #seq = 0;
  #turnTaken = false;

  /**
   * Creates a lock; prefer `scope.acquireLock()`, which ties it to a scope.
   *
   * @param signal Aborting it rejects every waiter and releases held keyed locks.
   * @param options `key`, `ttl`, `owner`, `provider`, `allowMultipleReaders`, `name`.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(signal?: AbortSignal, options?: LockOptions, provider?: LockProvider) {
    const o = checkLockOptions(signal, options);
    this.#name = o.name ?? `lock-${++nextLock}`;
    this.#rw = o.allowMultipleReaders === true;
    this.#key = o.key;
    this.#ttl = o.ttl ?? 30_000;
    this.#owner = o.owner ?? (o.key === undefined ? "" : generateOwner());
    if (o.key === undefined) this.#local = new LocalLockState();
    else {
      this.#provider = o.provider ?? provider ?? (defaultProvider ??= new InMemoryLockProvider());
      // An adapter given here with connect() is connected before its first use.
      if (o.provider !== undefined) gate(o.provider, [o.provider]);
    }
    if (signal !== undefined) {
      if (signal.aborted) this[ABORT](signal.reason);
      else {
        this.#signal = signal;
        signal.addEventListener("abort", this);
      }
    }
  }

  /** The lock's name. */
  get name(): string {
    return this.#name;
  }

  /** The key, for a keyed lock. */
  get key(): string | undefined {
    return this.#key;
  }

  /**
   * Waits for exclusive ownership (not on a read-write lock).
   *
   * @throws {TimeoutError} (rejection) when `timeout` passes first; rejects with the scope's reason
   * when it aborts, and with a `TypeError` on a read-write lock (as `read()`/`write()` on a mutex).
   */
  acquire(options?: LockAcquireOptions): Promise<LockGuard> {
    const wrong = this.#modeError(false, "acquire lock", "read() or write()");
    return wrong === undefined ? this.#request("exclusive", options) : Promise.reject(wrong);
  }

  /** Waits for a shared (read) hold on a read-write lock. */
  read(options?: LockAcquireOptions): Promise<LockGuard> {
    const wrong = this.#modeError(true, "read-lock");
    return wrong === undefined ? this.#request("read", options) : Promise.reject(wrong);
  }

  /** Waits for the exclusive (write) hold on a read-write lock. */
  write(options?: LockAcquireOptions): Promise<LockGuard> {
    const wrong = this.#modeError(true, "write-lock");
    return wrong === undefined ? this.#request("write", options) : Promise.reject(wrong);
  }

  /** Takes a local exclusive lock now, or returns `null`. */
  tryAcquire(): LockGuard | null {
    const wrong = this.#modeError(false, "try-acquire lock", "tryRead() or tryWrite()");
    if (wrong !== undefined) throw wrong;
    return this.#try("exclusive");
  }

  /** Takes a local read hold now, or returns `null`. */
  tryRead(): LockGuard | null {
    const wrong = this.#modeError(true, "read-lock");
    if (wrong !== undefined) throw wrong;
    return this.#try("read");
  }

  /** Takes a local write hold now, or returns `null`. */
  tryWrite(): LockGuard | null {
    const wrong = this.#modeError(true, "write-lock");
    if (wrong !== undefined) throw wrong;
    return this.#try("write");
  }

  /** A call for the other kind of lock, in go-go-scope's words ("… read-write mode"). */
  #modeError(rw: boolean, what: string, instead = ""): TypeError | undefined {
    if (this.#rw === rw) return undefined;
    return typeError(
      rw
        ? `Cannot ${what} "${this.#name}": it is not configured for read-write mode; create it with { allowMultipleReaders: true }`
        : `Cannot ${what} "${this.#name}": it is configured for read-write mode; use ${instead}`,
    );
  }

  /** Whether a local lock is held. @throws {Error} For a keyed lock (ask the provider's `isLocked(key)`). */
  get isLocked(): boolean {
    return this.#localState("isLocked").isLocked;
  }

  /** Holders and waiters of a local lock. @throws {Error} For a keyed lock. */
  get stats(): LockStats {
    return this.#localState("stats").stats;
  }

  /** Rejects every waiter and releases held keyed locks; detaches from the scope. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#aborted) this[ABORT](reasonToError(`Lock "${this.#name}" disposed`));
    await this.#releaseHeld;
  }

  /** @internal The signal aborted. */
  handleEvent(): void {
    this[ABORT](this.#signal?.reason);
  }

  /** @internal The scope (or signal) aborted. */
  [ABORT](reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#signal?.removeEventListener("abort", this);
    this.#signal = undefined;
    this.#owningScope?.[DETACH](this);
    this.#owningScope = undefined;
    const error = reasonToError(reason);
    this.#local?.abort(error);
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
    if (held !== undefined) this.#releaseHeld = this.#dropAll(held);
  }

  #releaseHeld: Promise<void> | undefined;

  /** @internal Ties the lock to its scope. */
  [SET_OWNER](scope: LockOwner): void {
    this.#logger = scope.logger;
    this.#owningScope = scope;
    scope[ATTACH](this);
  }

  #localState(what: string): LocalLockState {
    if (this.#local === undefined) {
      throw new Error(
        `${what} is not supported for keyed lock "${this.#key}": ask the provider's isLocked(key)`,
      );
    }
    return this.#local;
  }

  #try(type: "read" | "write" | "exclusive"): LockGuard | null {
    const local = this.#localState(`try-acquire`);
    if (this.#aborted) return null;
    return local.tryTake(type);
  }

  #request(type: "read" | "write" | "exclusive", options?: LockAcquireOptions): Promise<LockGuard> {
    let timeout: number | undefined;
    let priority = 0;
    let poll = 100;
    if (options !== undefined) {
      const what = `Cannot acquire lock "${this.#name}"`;
      assertObject(what, "options", options);
      assertKnownKeys(what, options, ACQUIRE_KNOWN);
      if (options.timeout !== undefined) assertMs(what, "timeout", timeout = options.timeout, true);
      if (options.priority !== undefined) {
        assertInteger(what, "priority", priority = options.priority, Number.MIN_SAFE_INTEGER);
      }
      if (options.pollInterval !== undefined) {
        assertMs(what, "pollInterval", poll = options.pollInterval);
      }
    }
    if (this.#aborted) return Promise.reject(reasonToError(this.#reason));
    if (this.#local !== undefined) return this.#local.take(type, priority, timeout, this.#name);
    return this.#acquireKeyed(type, timeout, poll);
  }

  async #acquireKeyed(
    type: "read" | "write" | "exclusive",
    timeout: number | undefined,
    poll: number,
  ): Promise<LockGuard> {
    const provider = this.#provider!;
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
    const key = this.#key!;
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
    const readers = `lock:read:${this.#key!}`;
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

/**
 * `scope.acquireLock(options)`: a lock tied to the scope. Its keyed locks use
 * the scope's `persistence.lock` unless `options.provider` is given.
 */
export function acquireLock(
  scope: LockOwner & {
    readonly isAborted: boolean;
    readonly abortReason: unknown;
    readonly parent: unknown;
  },
  options?: LockOptions,
): Lock {
  const lock = new Lock(undefined, options, lockProviderOf(scope as never));
  if (scope.isAborted) lock[ABORT](scope.abortReason);
  else lock[SET_OWNER](scope);
  return lock;
}

/**
 * Creates a lock tied to `signal` (go-go-scope's `createLock`).
 *
 * @example
 * ```ts
 * import { createLock } from "@go-go-scope/adapter-fastify/core";
 *
 * const controller = new AbortController();
 * const lock = createLock(controller.signal);
 * using guard = lock.tryAcquire();
 * console.log(guard !== null); // true
 * controller.abort();
 * ```
 */
export function createLock(signal?: AbortSignal, options?: LockOptions): Lock {
  return new Lock(signal, options);
}
