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
import type { LockHandle, LockMode, LockProvider } from "./persistence.ts";
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
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Held {
  guard: LockGuard;
  handle: LockHandle;
  timer: Timer | undefined;
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
    else {this.#provider = o.provider ?? provider ??
        (defaultProvider ??= new InMemoryLockProvider());}
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
   * @throws {TimeoutError} (rejection) when `timeout` passes first; rejects with the scope's reason when it aborts.
   */
  acquire(options?: LockAcquireOptions): Promise<LockGuard> {
    if (this.#rw) {
      throw typeError(
        `Cannot acquire lock "${this.#name}": it is a read-write lock; use read() or write()`,
      );
    }
    return this.#request("exclusive", options);
  }

  /** Waits for a shared (read) hold on a read-write lock. */
  read(options?: LockAcquireOptions): Promise<LockGuard> {
    if (!this.#rw) {
      throw typeError(
        `Cannot read-lock "${this.#name}": create it with { allowMultipleReaders: true }`,
      );
    }
    return this.#request("read", options);
  }

  /** Waits for the exclusive (write) hold on a read-write lock. */
  write(options?: LockAcquireOptions): Promise<LockGuard> {
    if (!this.#rw) {
      throw typeError(
        `Cannot write-lock "${this.#name}": create it with { allowMultipleReaders: true }`,
      );
    }
    return this.#request("write", options);
  }

  /** Takes a local exclusive lock now, or returns `null`. */
  tryAcquire(): LockGuard | null {
    if (this.#rw) {
      throw typeError(
        `Cannot try-acquire lock "${this.#name}": it is a read-write lock; use tryRead() or tryWrite()`,
      );
    }
    return this.#try("exclusive");
  }

  /** Takes a local read hold now, or returns `null`. */
  tryRead(): LockGuard | null {
    if (!this.#rw) {
      throw typeError(
        `Cannot read-lock "${this.#name}": create it with { allowMultipleReaders: true }`,
      );
    }
    return this.#try("read");
  }

  /** Takes a local write hold now, or returns `null`. */
  tryWrite(): LockGuard | null {
    if (!this.#rw) {
      throw typeError(
        `Cannot write-lock "${this.#name}": create it with { allowMultipleReaders: true }`,
      );
    }
    return this.#try("write");
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
    return this.#acquireKeyed(type === "read" ? "shared" : "exclusive", type, timeout, poll);
  }

  async #acquireKeyed(
    mode: LockMode,
    type: "read" | "write" | "exclusive",
    timeout: number | undefined,
    poll: number,
  ): Promise<LockGuard> {
    const provider = this.#provider!;
    const key = this.#key!;
    const owner = mode === "shared" ? `${this.#owner}:${++this.#seq}` : this.#owner;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    for (;;) {
      const handle = await provider.acquire(key, this.#ttl, owner, mode);
      if (this.#aborted) {
        if (handle !== null) await this.#drop(handle);
        throw reasonToError(this.#reason);
      }
      if (handle !== null) return this.#hold(handle, type);
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new TimeoutError(`Lock "${key}" was not acquired within ${timeout} ms`, timeout!);
      }
      await this.#sleep(Math.min(poll, left), provider, key);
    }
  }

  #sleep(ms: number, provider: LockProvider, key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sleepers = this.#sleepers ??= new Set();
      const s: Sleeper = { timer: undefined, off: undefined, resolve, reject };
      const wake = (): void => {
        if (!sleepers.delete(s)) return;
        clearTimeout(s.timer);
        s.off?.();
        resolve();
      };
      s.timer = setTimeout(wake, ms);
      s.off = provider.onRelease?.(key, wake);
      sleepers.add(s);
    });
  }

  #hold(handle: LockHandle, type: "read" | "write" | "exclusive"): LockGuard {
    const held: Held = { guard: undefined!, handle, timer: undefined };
    const held_ = this.#held ??= new Set();
    held.guard = new LockGuard(() => {
      if (held.timer !== undefined) clearTimeout(held.timer);
      if (!held_.delete(held)) return;
      return this.#drop(handle);
    }, type);
    held_.add(held);
    this.#scheduleExtend(held, held_);
    return held.guard;
  }

  #scheduleExtend(held: Held, set: Set<Held>): void {
    held.timer = setTimeout(async () => {
      held.timer = undefined;
      let ok = false;
      try {
        ok = await held.handle.extend(this.#ttl);
      } catch (error) {
        this.#logger.error({ err: error, lock: this.#key }, "extending a held lock failed");
      }
      if (!set.has(held)) return;
      if (ok) this.#scheduleExtend(held, set);
      else this.#logger.warn({ lock: this.#key }, "a held lock expired or was taken over");
    }, Math.max(1, Math.floor(this.#ttl * 0.6)));
  }

  async #drop(handle: LockHandle): Promise<void> {
    try {
      await handle.release();
    } catch (error) {
      this.#logger.error({ err: error, lock: this.#key }, "releasing a lock failed");
    }
  }

  async #dropAll(held: Set<Held>): Promise<void> {
    const all: Promise<void>[] = [];
    for (const h of held) {
      if (h.timer !== undefined) clearTimeout(h.timer);
      h.guard[ABORT]();
      all.push(this.#drop(h.handle));
    }
    await Promise.all(all);
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
