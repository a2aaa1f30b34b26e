/**
 * Idempotency: the task option `idempotency: { key, ttl }` and the in-memory
 * {@linkcode IdempotencyProvider}. A task with a key whose successful result
 * is stored returns that value without running; otherwise it runs and, on
 * success, stores its value for `ttl` ms. Failures are not stored. Concurrent
 * tasks with one key in one process share one run.
 *
 * A result is stored as go-go-scope stores it, the task's Result
 * `[undefined, value]` (`[null, value]` once encoded as JSON), so that
 * processes running go-go-scope and processes running this core read each
 * other's results. An entry whose error slot is set (go-go-scope stores
 * failures too) is not a result: the task runs.
 *
 * @module
 */
import { InMemoryCache } from "../persistence/cache.ts";
import type { IdempotencyProvider } from "../persistence/persistence.ts";
import { idempotencyProviderOf } from "../persistence/scope_persistence.ts";
import { whenConnected } from "../persistence/_connect.ts";
import type { Logger, TaskContext, TaskFn } from "../base/types.ts";
import { assertInteger, assertKnownKeys, assertMs, assertObject, fail } from "../base/_validate.ts";
import { scopeIdempotencyOf } from "./scope_idempotency.ts";

/** The task option `idempotency`. */
export interface IdempotencyOptions {
  /** The key (or a function computing it when the task is created). */
  key: string | (() => string);
  /** How long the stored result counts, in ms. @default the scope's `idempotency.defaultTTL`, else until evicted */
  ttl?: number;
}

/** Options of {@linkcode InMemoryIdempotencyProvider}. */
export interface InMemoryIdempotencyProviderOptions {
  /** At most this many stored results (least recently used evicted). @default 1000 */
  maxSize?: number;
}

interface Stored {
  value: unknown;
  expiresAt: number | undefined;
}

/**
 * Stores task results in this process's memory.
 *
 * @example
 * ```ts
 * import { InMemoryIdempotencyProvider, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const idempotency = new InMemoryIdempotencyProvider({ maxSize: 100 });
 * await using s = scope({ persistence: { idempotency } });
 * let charges = 0;
 * const charge = () => s.task(() => ++charges, { idempotency: { key: "order-1", ttl: 60_000 } });
 * await charge();
 * const [, value] = await charge();
 * console.log(value, charges); // 1 1
 * ```
 */
export class InMemoryIdempotencyProvider implements IdempotencyProvider, Disposable {
  readonly #cache: InMemoryCache;

  /** Creates an empty store. @throws {TypeError | RangeError} On a bad `maxSize`. */
  constructor(options?: InMemoryIdempotencyProviderOptions) {
    const what = "Cannot create idempotency provider";
    if (options !== undefined) {
      assertObject(what, "options", options);
      assertKnownKeys(what, options, ["maxSize"]);
      if (options.maxSize !== undefined) assertInteger(what, "maxSize", options.maxSize, 1);
    }
    this.#cache = new InMemoryCache(
      options?.maxSize === undefined ? undefined : { maxSize: options.maxSize },
    );
  }

  /** The stored entry, or `null`. */
  async get<T>(key: string): Promise<{ value: T; expiresAt?: number } | null> {
    const entry = await this.#cache.get<Stored>(key);
    if (entry === null) return null;
    return entry.expiresAt === undefined
      ? { value: entry.value as T }
      : { value: entry.value as T, expiresAt: entry.expiresAt };
  }

  /** Stores `value` for `ttl` ms. */
  async set<T>(key: string, value: T, ttl?: number): Promise<void> {
    await this.#cache.set<Stored>(
      key,
      { value, expiresAt: ttl === undefined ? undefined : Date.now() + ttl },
      ttl,
    );
  }

  /** Removes `key`. */
  delete(key: string): Promise<void> {
    return this.#cache.delete(key);
  }

  /** Removes everything. */
  clear(): Promise<void> {
    return this.#cache.clear();
  }

  /** Stored results (expired ones not yet pruned included). */
  get size(): number {
    return this.#cache.size;
  }

  /** Removes expired results. @returns How many. */
  cleanup(): number {
    return this.#cache.prune();
  }

  /** Empties the store. */
  [Symbol.dispose](): void {
    this.#cache[Symbol.dispose]();
  }
}

/**
 * Creates an {@linkcode InMemoryIdempotencyProvider}.
 *
 * @example
 * ```ts
 * import { createIdempotencyProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const store = createIdempotencyProvider({ maxSize: 10 });
 * console.log(await store.get("missing")); // null
 * ```
 */
export function createIdempotencyProvider(
  options?: InMemoryIdempotencyProviderOptions,
): InMemoryIdempotencyProvider {
  return new InMemoryIdempotencyProvider(options);
}

/** What a task's result is stored as: its successful Result, as go-go-scope stores it. */
type StoredResult<T> = [error: undefined, value: T];

/** Whether a stored entry is a successful Result (`null` is how JSON spells `undefined`). */
function isSuccess(stored: unknown): stored is [undefined | null, unknown] {
  return Array.isArray(stored) && stored.length === 2 && stored[0] == null;
}

let defaultProvider: InMemoryIdempotencyProvider | undefined;
// Runs in flight, per provider and key: concurrent duplicates await the first.
const inFlight = new WeakMap<IdempotencyProvider, Map<string, Promise<unknown>>>();
const WHAT = "Cannot create task";

/** What the wrapper needs from the task's scope. */
interface Owner {
  readonly logger: Logger;
}

/**
 * @internal Validates the task option and wraps `fn` so that it consults the
 * scope's idempotency provider (a process-wide in-memory one by default).
 */
export function withIdempotency<T>(fn: TaskFn<T>, option: unknown, owner: Owner): TaskFn<T> {
  assertObject(WHAT, "idempotency", option);
  assertKnownKeys(WHAT, option, ["key", "ttl"]);
  const { key: keyOption, ttl } = option as IdempotencyOptions;
  let key: unknown = keyOption;
  if (typeof keyOption === "function") key = keyOption();
  if (typeof key !== "string" || key === "") {
    fail(WHAT, "idempotency.key", "a non-empty string or a function returning one", key, false);
  }
  if (ttl !== undefined) assertMs(WHAT, "idempotency.ttl", ttl);
  const provider = idempotencyProviderOf(owner as never) ??
    (defaultProvider ??= new InMemoryIdempotencyProvider());
  // Without a ttl of its own, the scope's `idempotency.defaultTTL` (inherited) applies.
  const ttlMs = ttl ?? scopeIdempotencyOf(owner as never)?.defaultTTL;
  return (ctx: TaskContext) => run(fn, ctx, provider, key as string, ttlMs, owner.logger);
}

async function run<T>(
  fn: TaskFn<T>,
  ctx: TaskContext,
  provider: IdempotencyProvider,
  key: string,
  ttl: number | undefined,
  logger: Logger,
): Promise<T> {
  let runs = inFlight.get(provider);
  const pending = runs?.get(key);
  if (pending !== undefined) {
    try {
      return await pending as T;
    } catch {
      // the first run failed: this one runs for itself
    }
  }
  // Registered before the first await, so a duplicate started meanwhile waits.
  const promise = lookupOrRun(fn, ctx, provider, key, ttl, logger);
  if (runs === undefined) inFlight.set(provider, runs = new Map());
  runs.set(key, promise);
  try {
    return await promise;
  } finally {
    if (runs.get(key) === promise) runs.delete(key);
    if (runs.size === 0 && inFlight.get(provider) === runs) inFlight.delete(provider);
  }
}

async function lookupOrRun<T>(
  fn: TaskFn<T>,
  ctx: TaskContext,
  provider: IdempotencyProvider,
  key: string,
  ttl: number | undefined,
  logger: Logger,
): Promise<T> {
  try {
    const connecting = whenConnected(provider);
    if (connecting !== undefined) await connecting;
    const stored = await provider.get<unknown>(key);
    if (stored !== null && isSuccess(stored.value)) return stored.value[1] as T;
  } catch (error) {
    logger.error(
      { err: error, idempotencyKey: key },
      "idempotency lookup failed; running the task",
    );
  }
  const value = await fn(ctx);
  try {
    await provider.set<StoredResult<T>>(key, [undefined, value], ttl);
  } catch (error) {
    logger.error({ err: error, idempotencyKey: key }, "storing an idempotent result failed");
  }
  return value;
}
