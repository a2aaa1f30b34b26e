/**
 * Locks: an exclusive lock (mutex) or a read-write lock, in memory by default
 * or, with a `key`, held through a {@linkcode LockProvider} so that every
 * holder of the same key (in this process or, with a shared store, in others)
 * contends for it. Created by `scope.acquireLock()`; waiters are rejected with
 * the scope's abort reason when it aborts.
 *
 * @module
 */
import { reasonToError } from "../base/errors.ts";
import { generateOwner, InMemoryLockProvider } from "./in_memory_lock_provider.ts";
import type { LockProvider } from "./persistence.ts";
import { gate } from "./_connect.ts";
import { lockProviderOf } from "./scope_persistence.ts";
import { defaultLogger, type Logger } from "../base/types.ts";
import { ABORT, type Abortable, ATTACH, DETACH, SET_OWNER } from "../base/_symbols.ts";
import {
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  typeError,
} from "../base/_validate.ts";
import { LocalLockState } from "./_local_lock.ts";
import type { LockGuard, LockStats } from "./lock_guard.ts";
import {
  ACQUIRE_KNOWN,
  checkLockOptions,
  type LockAcquireOptions,
  type LockOptions,
} from "./lock_options.ts";
import { KeyedLockState } from "./_keyed_lock.ts";

let nextLock = 0;
let defaultProvider: InMemoryLockProvider | undefined;

/** What a lock needs from its scope. */
interface LockOwner {
  readonly logger: Logger;
  [ATTACH](d: Abortable): void;
  [DETACH](d: Abortable): void;
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
  readonly #local: LocalLockState | undefined;
  readonly #keyed: KeyedLockState | undefined;
  #logger: Logger = defaultLogger;
  #owningScope: { [DETACH](d: Abortable): void } | undefined;
  #signal: AbortSignal | undefined;
  #aborted = false;
  #reason: unknown;

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
    if (o.key === undefined) this.#local = new LocalLockState();
    else {
      this.#keyed = new KeyedLockState(
        o.key,
        o.ttl ?? 30_000,
        o.owner ?? generateOwner(),
        o.provider ?? provider ?? (defaultProvider ??= new InMemoryLockProvider()),
        () => this.#logger,
      );
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
    this.#releaseHeld = this.#keyed?.abort(reason, error);
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
    return this.#keyed!.acquire(type, timeout, poll);
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
