/**
 * The in-memory {@linkcode LockProvider}: keyed locks with owners and
 * time-to-live inside one process. The default store of keyed locks.
 *
 * @module
 */
import type { LockHandle, LockMode, LockProvider } from "./persistence.ts";
import { assertMs, assertOneOf, assertString } from "../base/_validate.ts";

interface Entry {
  /** The exclusive holder, if any. */
  owner: string | undefined;
  expiresAt: number;
  /** Shared holders: owner → expiry. */
  shared: Map<string, number> | undefined;
}

const MODES = ["exclusive", "shared"] as const;
let nextOwner = 0;

/** A random-enough owner id for callers that give none. */
export function generateOwner(): string {
  return `owner-${Date.now().toString(36)}-${(++nextOwner).toString(36)}-${
    Math.random().toString(36).slice(2, 8)
  }`;
}

/**
 * Keyed locks held in this process's memory. Expiry is lazy (checked on every
 * call), so the provider owns no timer and needs no disposal.
 *
 * @example
 * ```ts
 * import { InMemoryLockProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const locks = new InMemoryLockProvider();
 * const handle = await locks.acquire("report", 30_000, "me");
 * console.log(await locks.isLocked("report")); // true
 * await handle?.release();
 * console.log(await locks.isLocked("report")); // false
 * ```
 */
export class InMemoryLockProvider implements LockProvider {
  /** `acquire` honours `mode: "shared"`. */
  readonly supportsSharedMode: true = true;
  readonly #entries = new Map<string, Entry>();
  #listeners: Map<string, Set<() => void>> | undefined;

  /**
   * Takes the lock if it is free (or, for `"shared"`, held only in shared mode).
   *
   * @throws {TypeError | RangeError} On a non-string key or owner, a bad ttl or mode.
   */
  acquire(
    key: string,
    ttl: number,
    owner: string = generateOwner(),
    mode: LockMode = "exclusive",
  ): Promise<LockHandle | null> {
    const what = "Cannot acquire lock";
    assertString(what, "key", key);
    assertMs(what, "ttl", ttl);
    assertString(what, "owner", owner);
    assertOneOf(what, "mode", mode, MODES);
    const now = Date.now();
    const entry = this.#live(key, now);
    const expiresAt = now + ttl;
    if (mode === "exclusive") {
      if (entry !== undefined) return Promise.resolve(null);
      this.#entries.set(key, { owner, expiresAt, shared: undefined });
    } else {
      if (entry?.owner !== undefined) return Promise.resolve(null);
      if (entry === undefined) {
        this.#entries.set(key, {
          owner: undefined,
          expiresAt: 0,
          shared: new Map([[owner, expiresAt]]),
        });
      } else if (entry.shared!.has(owner)) return Promise.resolve(null);
      else entry.shared!.set(owner, expiresAt);
    }
    return Promise.resolve(this.#handle(key, owner));
  }

  /** Resets the ttl if `owner` holds the lock. */
  extend(key: string, ttl: number, owner: string): Promise<boolean> {
    assertMs("Cannot extend lock", "ttl", ttl);
    const now = Date.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return Promise.resolve(false);
    if (entry.owner === owner) {
      entry.expiresAt = now + ttl;
      return Promise.resolve(true);
    }
    if (entry.shared?.has(owner)) {
      entry.shared.set(owner, now + ttl);
      return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  /** Releases `owner`'s hold on `key`. */
  release(key: string, owner: string): Promise<boolean> {
    const entry = this.#live(key, Date.now());
    let released = false;
    if (entry !== undefined) {
      if (entry.owner === owner) {
        this.#entries.delete(key);
        released = true;
      } else if (entry.shared?.delete(owner)) {
        if (entry.shared.size === 0) this.#entries.delete(key);
        released = true;
      }
    }
    if (released) this.#notify(key);
    return Promise.resolve(released);
  }

  /** Drops every hold on `key`. */
  forceRelease(key: string): Promise<void> {
    if (this.#entries.delete(key)) this.#notify(key);
    return Promise.resolve();
  }

  /** Whether an unexpired hold exists on `key`. */
  isLocked(key: string): Promise<boolean> {
    return Promise.resolve(this.#live(key, Date.now()) !== undefined);
  }

  /** Calls `listener` whenever a hold on `key` is released. */
  onRelease(key: string, listener: () => void): () => void {
    const listeners = this.#listeners ??= new Map();
    let set = listeners.get(key);
    if (set === undefined) listeners.set(key, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
    };
  }

  /** How many keys are held now (expired holds excluded). */
  get size(): number {
    const now = Date.now();
    let n = 0;
    for (const key of [...this.#entries.keys()]) if (this.#live(key, now)) n++;
    return n;
  }

  /** The entry of `key` with expired holds removed; `undefined` when free. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.owner !== undefined) {
      if (entry.expiresAt > now) return entry;
    } else if (entry.shared !== undefined) {
      for (const [owner, expiresAt] of entry.shared) {
        if (expiresAt <= now) entry.shared.delete(owner);
      }
      if (entry.shared.size > 0) return entry;
    }
    this.#entries.delete(key);
    return undefined;
  }

  #notify(key: string): void {
    const set = this.#listeners?.get(key);
    if (set === undefined) return;
    for (const listener of [...set]) listener();
  }

  #handle(key: string, owner: string): LockHandle {
    return {
      release: async () => {
        await this.release(key, owner);
      },
      extend: (ttl: number) => this.extend(key, ttl, owner),
      isValid: () => {
        const entry = this.#live(key, Date.now());
        return Promise.resolve(
          entry !== undefined && (entry.owner === owner ||
            entry.shared?.has(owner) === true),
        );
      },
    };
  }
}
