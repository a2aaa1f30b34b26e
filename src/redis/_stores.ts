// Idempotency results, cache entries and checkpoints in Redis, as JSON
// strings with Redis's own expiry (PX), so nothing outlives its time-to-live
// even when every process is gone.
import type {
  CacheProvider,
  Checkpoint,
  CheckpointProvider,
  IdempotencyProvider,
} from "../core/mod.ts";
import type { Connection } from "./_connection.ts";

function ttlArgs(ttl: number | undefined): (string | number)[] {
  return ttl === undefined ? [] : ["PX", Math.max(1, Math.ceil(ttl))];
}

function parse<T>(text: unknown): T | null {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** An {@linkcode IdempotencyProvider} over Redis. */
export class RedisIdempotencyProvider implements IdempotencyProvider {
  readonly #conn: Connection;
  /** @internal Created by `RedisAdapter`, which shares one connection between its providers. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** Implements the provider interface's `get` (see `persistence.ts`). */
  async get<T>(key: string): Promise<{ value: T; expiresAt?: number } | null> {
    const text = await this.#conn.call(
      `get idempotency ${key}`,
      (c) => c.call("GET", this.#conn.key("idem", key)),
    );
    return parse<{ value: T; expiresAt?: number }>(text);
  }

  /** Implements the provider interface's `set` (see `persistence.ts`). */
  async set<T>(key: string, value: T, ttl?: number): Promise<void> {
    const entry = ttl === undefined ? { value } : { value, expiresAt: Date.now() + ttl };
    await this.#conn.call(
      `set idempotency ${key}`,
      (c) => c.call("SET", this.#conn.key("idem", key), JSON.stringify(entry), ...ttlArgs(ttl)),
    );
  }

  /** Implements the provider interface's `delete` (see `persistence.ts`). */
  async delete(key: string): Promise<void> {
    await this.#conn.call(
      `delete idempotency ${key}`,
      (c) => c.call("DEL", this.#conn.key("idem", key)),
    );
  }
}

/** A {@linkcode CacheProvider} over Redis (values are stored as JSON). */
export class RedisCacheProvider implements CacheProvider {
  readonly #conn: Connection;
  /** @internal Created by `RedisAdapter`, which shares one connection between its providers. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** Implements the provider interface's `get` (see `persistence.ts`). */
  async get<T>(key: string): Promise<T | null> {
    const text = await this.#conn.call(
      `get cache ${key}`,
      (c) => c.call("GET", this.#conn.key("cache", key)),
    );
    const entry = parse<{ v: T }>(text);
    return entry === null ? null : entry.v;
  }

  /** Implements the provider interface's `set` (see `persistence.ts`). */
  async set<T>(key: string, value: T, ttl?: number): Promise<void> {
    await this.#conn.call(
      `set cache ${key}`,
      (c) =>
        c.call("SET", this.#conn.key("cache", key), JSON.stringify({ v: value }), ...ttlArgs(ttl)),
    );
  }

  /** Implements the provider interface's `delete` (see `persistence.ts`). */
  async delete(key: string): Promise<void> {
    await this.#conn.call(
      `delete cache ${key}`,
      (c) => c.call("DEL", this.#conn.key("cache", key)),
    );
  }

  /** Implements the provider interface's `has` (see `persistence.ts`). */
  async has(key: string): Promise<boolean> {
    const n = await this.#conn.call(
      `has cache ${key}`,
      (c) =>
        c.call("EVAL", `return redis.call('EXISTS', KEYS[1])`, 1, this.#conn.key("cache", key)),
    );
    return n === 1;
  }

  /** Implements the provider interface's `clear` (see `persistence.ts`). */
  async clear(): Promise<void> {
    const keys = await this.#scan(this.#conn.key("cache", "*"));
    if (keys.length > 0) await this.#conn.call("clear cache", (c) => c.call("DEL", ...keys));
  }

  /** Implements the provider interface's `keys` (see `persistence.ts`). */
  async keys(pattern = "*"): Promise<string[]> {
    const base = this.#conn.key("cache", "");
    const keys = await this.#scan(base + pattern);
    return keys.map((k) => k.slice(base.length));
  }

  /** SCAN, never KEYS: it does not block Redis on a large keyspace. */
  async #scan(match: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await this.#conn.call(
        `scan ${match}`,
        (c) => c.call("SCAN", cursor, "MATCH", match, "COUNT", 200),
      )) as [string, string[]];
      cursor = next;
      found.push(...batch);
    } while (cursor !== "0");
    return found;
  }
}

/** A {@linkcode CheckpointProvider} over Redis: a hash per task, field = sequence. */
export class RedisCheckpointProvider implements CheckpointProvider {
  readonly #conn: Connection;
  /** @internal Created by `RedisAdapter`, which shares one connection between its providers. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** Implements the provider interface's `save` (see `persistence.ts`). */
  async save<T>(checkpoint: Checkpoint<T>): Promise<void> {
    const task = this.#conn.key("ckpt", checkpoint.taskId);
    const byId = this.#conn.key("ckpt-id", checkpoint.id);
    await this.#conn.call(
      `save checkpoint ${checkpoint.id}`,
      (c) =>
        c.call(
          "EVAL",
          `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('SET', KEYS[2], ARGV[3]) return 1`,
          2,
          task,
          byId,
          checkpoint.sequence,
          JSON.stringify(checkpoint),
          checkpoint.taskId + "\n" + checkpoint.sequence,
        ),
    );
  }

  /** Implements the provider interface's `list` (see `persistence.ts`). */
  async list(taskId: string): Promise<Checkpoint<unknown>[]> {
    const values = await this.#conn.call(
      `list checkpoints ${taskId}`,
      (c) =>
        c.call("EVAL", `return redis.call('HVALS', KEYS[1])`, 1, this.#conn.key("ckpt", taskId)),
    ) as string[];
    const list: Checkpoint<unknown>[] = [];
    for (const v of values) {
      const cp = parse<Checkpoint<unknown>>(v);
      if (cp !== null) list.push(cp);
    }
    return list.sort((a, b) => a.sequence - b.sequence);
  }

  /** Implements the provider interface's `loadLatest` (see `persistence.ts`). */
  async loadLatest<T>(taskId: string): Promise<Checkpoint<T> | undefined> {
    const list = await this.list(taskId);
    return list[list.length - 1] as Checkpoint<T> | undefined;
  }

  /** Implements the provider interface's `load` (see `persistence.ts`). */
  async load<T>(checkpointId: string): Promise<Checkpoint<T> | undefined> {
    const where = await this.#conn.call(
      `find checkpoint ${checkpointId}`,
      (c) => c.call("GET", this.#conn.key("ckpt-id", checkpointId)),
    );
    if (typeof where !== "string") return undefined;
    const [taskId, sequence] = where.split("\n") as [string, string];
    const text = await this.#conn.call(
      `load checkpoint ${checkpointId}`,
      (c) =>
        c.call(
          "EVAL",
          `return redis.call('HGET', KEYS[1], ARGV[1])`,
          1,
          this.#conn.key("ckpt", taskId),
          sequence,
        ),
    ) as string | null;
    return parse<Checkpoint<T>>(text) ?? undefined;
  }

  /** Implements the provider interface's `cleanup` (see `persistence.ts`). */
  async cleanup(taskId: string, keepCount: number): Promise<void> {
    const list = await this.list(taskId);
    const drop = list.slice(0, Math.max(0, list.length - keepCount));
    if (drop.length === 0) return;
    await this.#conn.call(`clean checkpoints ${taskId}`, async (c) => {
      await c.call(
        "EVAL",
        `for i = 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end return 1`,
        1,
        this.#conn.key("ckpt", taskId),
        ...drop.map((cp) => cp.sequence),
      );
      return c.call("DEL", ...drop.map((cp) => this.#conn.key("ckpt-id", cp.id)));
    });
  }

  /** Implements the provider interface's `deleteAll` (see `persistence.ts`). */
  async deleteAll(taskId: string): Promise<void> {
    const list = await this.list(taskId);
    await this.#conn.call(
      `delete checkpoints ${taskId}`,
      (c) =>
        c.call(
          "DEL",
          this.#conn.key("ckpt", taskId),
          ...list.map((cp) => this.#conn.key("ckpt-id", cp.id)),
        ),
    );
  }
}
