/**
 * Where the task option `memo: { key, ttl }` keeps successful Results: a small
 * store interface, so another cache (a shared or persistent one) can be
 * plugged in later, and the in-memory store each scope creates on first use.
 *
 * @module
 */
import type { Result } from "../base/types.ts";

/**
 * A store of memoized task Results. `get` returns `undefined` for a missing or
 * expired key; `set` keeps `result` for `ttl` milliseconds.
 *
 * @example
 * ```ts
 * import { InMemoryMemoStore, type MemoStore } from "@go-go-scope/adapter-fastify/core";
 *
 * const store: MemoStore = new InMemoryMemoStore();
 * store.set("k", [undefined, 1], 1000);
 * console.log(store.get("k")); // [ undefined, 1 ]
 * ```
 */
export interface MemoStore {
  /** The Result stored under `key`, or `undefined` when missing or expired. */
  get(key: string | symbol): Result<Error, unknown> | undefined;
  /** Stores `result` under `key` for `ttl` milliseconds. */
  set(key: string | symbol, result: Result<Error, unknown>, ttl: number): void;
  /** Forgets `key`. */
  delete(key: string | symbol): void;
}

// Expired entries are dropped when read, and swept when the store has grown
// by this many entries since the last sweep: no timer is ever needed.
const SWEEP_EVERY = 256;

/**
 * The default {@linkcode MemoStore}: a Map with expiry times, checked on read
 * (no timers).
 *
 * @example
 * ```ts
 * import { InMemoryMemoStore } from "@go-go-scope/adapter-fastify/core";
 *
 * const store = new InMemoryMemoStore();
 * store.set("user:1", [undefined, { id: 1 }], 60_000);
 * console.log(store.size); // 1
 * ```
 */
export class InMemoryMemoStore implements MemoStore {
  readonly #entries = new Map<
    string | symbol,
    { result: Result<Error, unknown>; expiry: number }
  >();
  #sweepAt = SWEEP_EVERY;

  /** How many entries are stored, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The Result under `key`, or `undefined` when missing or expired. */
  get(key: string | symbol): Result<Error, unknown> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiry <= performance.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.result;
  }

  /** Stores `result` under `key` for `ttl` milliseconds. */
  set(key: string | symbol, result: Result<Error, unknown>, ttl: number): void {
    const now = performance.now();
    this.#entries.set(key, { result, expiry: now + ttl });
    if (this.#entries.size >= this.#sweepAt) {
      for (const [k, entry] of this.#entries) if (entry.expiry <= now) this.#entries.delete(k);
      this.#sweepAt = this.#entries.size + SWEEP_EVERY;
    }
  }

  /** Forgets `key`. */
  delete(key: string | symbol): void {
    this.#entries.delete(key);
  }
}
