/**
 * The in-memory {@linkcode CacheProvider}: values with an optional
 * time-to-live, at most `maxSize` of them, the least recently used evicted
 * first. Expiry is lazy (checked on access, or by `prune()`), so the cache owns
 * no timer.
 *
 * @module
 */
import type { CacheProvider, CacheStats } from "./persistence.ts";
import {
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertString,
} from "../base/_validate.ts";

/** Options of {@linkcode InMemoryCache} and {@linkcode createCache}. */
export interface InMemoryCacheOptions {
  /** At most this many entries; storing one more evicts the least recently used. @default 1000 */
  maxSize?: number;
}

interface Entry {
  value: unknown;
  /** `Infinity` when the entry has no ttl. */
  expiresAt: number;
}

/**
 * An LRU cache in this process's memory.
 *
 * @example
 * ```ts
 * import { InMemoryCache } from "@go-go-scope/adapter-fastify/core";
 *
 * const cache = new InMemoryCache({ maxSize: 2 });
 * await cache.set("a", 1);
 * await cache.set("b", 2);
 * await cache.get("a"); // "a" is now the most recently used
 * await cache.set("c", 3); // evicts "b"
 * console.log(await cache.keys()); // [ "a", "c" ]
 * console.log(cache.stats().hits); // 1
 * ```
 */
export class InMemoryCache implements CacheProvider, Disposable {
  // A Map keeps insertion order: re-inserting on access keeps the least
  // recently used entry first, so eviction is O(1).
  readonly #entries = new Map<string, Entry>();
  readonly #maxSize: number;
  #hits = 0;
  #misses = 0;

  /**
   * Creates an empty cache.
   *
   * @throws {TypeError | RangeError} When `maxSize` is not an integer >= 1.
   */
  constructor(options?: InMemoryCacheOptions) {
    const what = "Cannot create cache";
    if (options !== undefined) {
      assertObject(what, "options", options);
      assertKnownKeys(what, options, ["maxSize"]);
      if (options.maxSize !== undefined) assertInteger(what, "maxSize", options.maxSize, 1);
    }
    this.#maxSize = options?.maxSize ?? 1000;
  }

  /** The value under `key`, or `null` when missing or expired. Counts a hit or a miss. */
  get<T>(key: string): Promise<T | null> {
    const entry = this.#live(key);
    if (entry === undefined) {
      this.#misses++;
      return Promise.resolve(null);
    }
    this.#hits++;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return Promise.resolve(entry.value as T);
  }

  /**
   * Stores `value` under `key` for `ttl` ms (or until evicted).
   *
   * @throws {TypeError | RangeError} On a non-string key or a bad ttl.
   */
  set<T>(key: string, value: T, ttl?: number): Promise<void> {
    assertString("Cannot set cache entry", "key", key);
    if (ttl !== undefined) assertMs("Cannot set cache entry", "ttl", ttl);
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxSize) this.evictLRU();
    this.#entries.set(key, { value, expiresAt: ttl === undefined ? Infinity : Date.now() + ttl });
    return Promise.resolve();
  }

  /** Removes `key`. */
  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  /** Whether `key` holds an unexpired value (not counted as a hit or miss). */
  has(key: string): Promise<boolean> {
    return Promise.resolve(this.#live(key) !== undefined);
  }

  /** Removes every entry and resets the counters. */
  clear(): Promise<void> {
    this.#entries.clear();
    this.#hits = 0;
    this.#misses = 0;
    return Promise.resolve();
  }

  /** The unexpired keys, least recently used first; `pattern` may use `*` as a wildcard. */
  keys(pattern?: string): Promise<string[]> {
    this.prune();
    const keys = [...this.#entries.keys()];
    if (pattern === undefined) return Promise.resolve(keys);
    const re = new RegExp(
      `^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`,
    );
    return Promise.resolve(keys.filter((k) => re.test(k)));
  }

  /** Hits, misses, size and hit ratio. */
  stats(): CacheStats {
    const reads = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      size: this.#entries.size,
      hitRatio: reads === 0 ? 0 : this.#hits / reads,
    };
  }

  /** Removes expired entries. @returns How many were removed. */
  prune(): number {
    const now = Date.now();
    let n = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Removes the least recently used entry. */
  evictLRU(): void {
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }

  /** Entries stored now (expired ones not yet pruned included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Empties the cache. */
  [Symbol.dispose](): void {
    this.#entries.clear();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry;
    this.#entries.delete(key);
    return undefined;
  }
}

/**
 * Creates an {@linkcode InMemoryCache}.
 *
 * @example
 * ```ts
 * import { createCache, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ persistence: { cache: createCache({ maxSize: 500 }) } });
 * await s.persistence?.cache?.set("greeting", "hello", 60_000);
 * console.log(await s.persistence?.cache?.get("greeting")); // hello
 * ```
 */
export function createCache(options?: InMemoryCacheOptions): InMemoryCache {
  return new InMemoryCache(options);
}
