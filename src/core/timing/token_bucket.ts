/**
 * Token-bucket rate limiting: `scope.tokenBucket(options)` and
 * {@linkcode TokenBucket}. Tokens refill continuously at `refillRate` per
 * second up to `capacity`; each operation takes one or more.
 *
 * @module
 */
import { delay } from "./delay.ts";
import {
  assertFunction,
  assertKnownKeys,
  assertObject,
  assertString,
  fail,
  typeError,
} from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * Where a shared bucket keeps its state (`{ tokens, lastRefill }`), so that
 * several processes draw from one bucket. Any `CacheProvider` fits.
 */
export interface TokenBucketCache {
  /** The stored value, or `undefined`/`null` when absent. */
  get(key: string): Promise<unknown>;
  /** Stores `value` for `ttl` ms. */
  set(key: string, value: unknown, ttl?: number): Promise<unknown>;
}

/**
 * Options of `scope.tokenBucket()` and `new TokenBucket()`.
 *
 * @example
 * ```ts
 * import type { TokenBucketOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: TokenBucketOptions = { capacity: 10, refillRate: 5 };
 * console.log(options.capacity); // 10
 * ```
 */
export interface TokenBucketOptions {
  /** The most tokens the bucket holds (a finite number > 0). */
  capacity: number;
  /** Tokens added per second (a finite number > 0). */
  refillRate: number;
  /** Tokens at the start, 0 to `capacity`. @default capacity */
  initialTokens?: number;
  /** A shared store for the bucket's state; needs `key`. */
  cache?: TokenBucketCache;
  /** The bucket's key in `cache`. */
  key?: string;
}

interface State {
  tokens: number;
  lastRefill: number;
}

const WHAT = "Cannot create token bucket";
const KNOWN = ["capacity", "refillRate", "initialTokens", "cache", "key"] as const;
const DAY = 86_400_000;

function assertPositive(what: string, option: string, value: unknown): asserts value is number {
  const accepted = "a finite number > 0";
  if (typeof value !== "number") fail(what, option, accepted, value, false);
  if (!(value > 0) || !Number.isFinite(value)) fail(what, option, accepted, value, true);
}

/**
 * A token bucket. Waits in {@linkcode TokenBucket.acquire} end with the
 * owning scope: when the scope aborts or is disposed, every waiter rejects
 * with its abort reason and its timer is cleared.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const bucket = s.tokenBucket({ capacity: 2, refillRate: 100 });
 * console.log(await bucket.tryConsume(), await bucket.tryConsume()); // true true
 * console.log(await bucket.tryConsume()); // false (empty until it refills)
 * const value = await bucket.acquire(1, async () => "ran"); // waits ~10 ms
 * console.log(value); // ran
 * ```
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillRate: number;
  readonly #cache: TokenBucketCache | undefined;
  readonly #key: string;
  readonly #owner: ScopeLike | undefined;
  #tokens: number;
  #lastRefill: number;

  /**
   * Creates a bucket, full unless `initialTokens` says otherwise.
   *
   * @param options `capacity`, `refillRate`, and optionally `initialTokens`, `cache` with `key`.
   * @param owner The scope whose abort ends waits (set by `scope.tokenBucket()`).
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: TokenBucketOptions, owner?: ScopeLike) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { capacity, refillRate, initialTokens, cache, key } = options;
    assertPositive(WHAT, "capacity", capacity);
    assertPositive(WHAT, "refillRate", refillRate);
    if (initialTokens !== undefined) {
      const accepted = `a number from 0 to capacity (${capacity})`;
      if (typeof initialTokens !== "number") {
        fail(WHAT, "initialTokens", accepted, initialTokens, false);
      }
      if (!(initialTokens >= 0 && initialTokens <= capacity)) {
        fail(WHAT, "initialTokens", accepted, initialTokens, true);
      }
    }
    if (cache !== undefined) {
      // The key is checked first, as go-go-scope does, with its words at the end.
      if (key === undefined) {
        throw typeError(
          `${WHAT}: "key" must be a string when cache is set, received undefined (key is required when using cache)`,
        );
      }
      if (
        typeof cache !== "object" || cache === null || typeof cache.get !== "function" ||
        typeof cache.set !== "function"
      ) fail(WHAT, "cache", "an object with get and set methods", cache, false);
    }
    if (key !== undefined) assertString(WHAT, "key", key);
    this.#capacity = capacity;
    this.#refillRate = refillRate;
    this.#tokens = initialTokens ?? capacity;
    this.#lastRefill = Date.now();
    this.#cache = cache;
    this.#key = `token-bucket:${key}`;
    this.#owner = owner;
  }

  /** The tokens available now (fractional while refilling). */
  async getTokens(): Promise<number> {
    return this.#refilled(await this.#load(), Date.now());
  }

  /**
   * Takes `tokens` if they are available now.
   *
   * @param tokens How many, > 0 and <= capacity. @default 1
   * @returns `true` when taken, `false` when there were not enough.
   */
  async tryConsume(tokens = 1): Promise<boolean> {
    this.#assertTokens("consume tokens", tokens);
    return (await this.#take(tokens)) === 0;
  }

  /**
   * Waits until `tokens` are available, takes them, then runs `fn`.
   *
   * @param tokens How many, > 0 and <= capacity.
   * @param fn Runs once the tokens are taken.
   * @returns What `fn` returns.
   * @throws The owning scope's abort reason if it aborts while waiting.
   */
  async acquire<T>(tokens: number, fn: () => T | PromiseLike<T>): Promise<T> {
    this.#assertTokens("acquire tokens", tokens);
    assertFunction("Cannot acquire tokens", "fn", fn);
    for (;;) {
      const wait = await this.#take(tokens);
      if (wait === 0) return await fn();
      await delay(this.#owner, wait);
    }
  }

  /**
   * Like {@linkcode TokenBucket.acquire}, but gives up after `timeoutMs`.
   *
   * @returns What `fn` returns, or `undefined` when the tokens did not come in time (`fn` not run).
   */
  async acquireWithTimeout<T>(
    tokens: number,
    timeoutMs: number,
    fn: () => T | PromiseLike<T>,
  ): Promise<T | undefined> {
    this.#assertTokens("acquire tokens", tokens);
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      fail(
        "Cannot acquire tokens",
        "timeoutMs",
        "a finite number >= 0",
        timeoutMs,
        typeof timeoutMs === "number",
      );
    }
    assertFunction("Cannot acquire tokens", "fn", fn);
    const end = performance.now() + timeoutMs;
    for (;;) {
      const wait = await this.#take(tokens);
      if (wait === 0) return await fn();
      const left = end - performance.now();
      if (left <= 0 || wait > left) return undefined;
      await delay(this.#owner, wait);
    }
  }

  /** Fills the bucket to capacity. */
  async reset(): Promise<void> {
    await this.#store({ tokens: this.#capacity, lastRefill: Date.now() });
  }

  /** The tokens now, with the bucket's capacity and refill rate. */
  async getState(): Promise<{ tokens: number; capacity: number; refillRate: number }> {
    return {
      tokens: await this.getTokens(),
      capacity: this.#capacity,
      refillRate: this.#refillRate,
    };
  }

  /** Takes `tokens` if possible: 0 when taken, else the ms until enough refill. */
  async #take(tokens: number): Promise<number> {
    const state = await this.#load();
    const now = Date.now();
    const available = this.#refilled(state, now);
    if (available >= tokens) {
      await this.#store({ tokens: available - tokens, lastRefill: now });
      return 0;
    }
    // At least 1 ms, so a wait always moves the clock forward.
    return Math.max(1, Math.ceil(((tokens - available) / this.#refillRate) * 1000));
  }

  #refilled(state: State, now: number): number {
    const elapsed = Math.max(0, now - state.lastRefill);
    return Math.min(this.#capacity, state.tokens + (elapsed / 1000) * this.#refillRate);
  }

  async #load(): Promise<State> {
    if (this.#cache === undefined) return { tokens: this.#tokens, lastRefill: this.#lastRefill };
    const stored = await this.#cache.get(this.#key) as Partial<State> | null | undefined;
    if (typeof stored?.tokens !== "number" || typeof stored.lastRefill !== "number") {
      return { tokens: this.#capacity, lastRefill: Date.now() };
    }
    return stored as State;
  }

  async #store(state: State): Promise<void> {
    if (this.#cache === undefined) {
      this.#tokens = state.tokens;
      this.#lastRefill = state.lastRefill;
      return;
    }
    await this.#cache.set(this.#key, state, DAY);
  }

  #assertTokens(what: string, tokens: unknown): void {
    const accepted = `a number > 0 and <= capacity (${this.#capacity})`;
    if (typeof tokens !== "number") fail(`Cannot ${what}`, "tokens", accepted, tokens, false);
    if (!(tokens > 0 && tokens <= this.#capacity)) {
      fail(`Cannot ${what}`, "tokens", accepted, tokens, true);
    }
  }
}

/**
 * Creates a {@linkcode TokenBucket} owned by `owner`: waits end when it aborts.
 * Used by `scope.tokenBucket(options)`.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const bucket = s.tokenBucket({ capacity: 5, refillRate: 1 });
 * console.log((await bucket.getState()).capacity); // 5
 * ```
 */
export function tokenBucket(
  owner: ScopeLike | undefined,
  options: TokenBucketOptions,
): TokenBucket {
  return new TokenBucket(options, owner);
}
