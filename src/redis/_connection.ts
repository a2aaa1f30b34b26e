// One Redis client shared by every provider of an adapter: key prefixing, a
// deadline on every call, and one subscriber connection (created on first
// subscription) that fans pub/sub messages out to in-process listeners.
import type { RedisClient } from "./_client.ts";
import { RedisUnavailableError } from "./errors.ts";

type Timer = ReturnType<typeof setTimeout>;

export class Connection {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly timeout: number;
  #subscriber: RedisClient | undefined;
  #listeners = new Map<string, Set<(message: string) => void>>();
  #onMessage = (channel: string, message: string): void => {
    const set = this.#listeners.get(channel);
    if (set === undefined) return;
    for (const listener of set) listener(message);
  };

  constructor(client: RedisClient, prefix: string, timeout: number) {
    this.client = client;
    this.prefix = prefix;
    this.timeout = timeout;
  }

  /** The full Redis key of `key` in the namespace `kind` (`lock`, `cb`, `cache`, ...). */
  key(kind: string, key: string): string {
    return `${this.prefix}${kind}:${key}`;
  }

  /**
   * Runs one Redis call under the adapter's deadline. A call that does not
   * answer in time rejects with `RedisUnavailableError`; its late answer (or
   * error) is dropped, so a slow Redis never holds the caller.
   */
  call<T>(operation: string, run: (client: RedisClient) => Promise<T>): Promise<T> {
    let timer: Timer | undefined;
    let pending: Promise<T>;
    try {
      pending = run(this.client);
    } catch (cause) {
      return Promise.reject(new RedisUnavailableError(operation, undefined, { cause }));
    }
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(operation, this.timeout)),
        this.timeout,
      );
    });
    const guarded = pending.then(
      (value) => value,
      (cause: unknown) => {
        throw new RedisUnavailableError(operation, undefined, { cause });
      },
    );
    // The loser of the race must not become an unhandled rejection.
    guarded.catch(() => {});
    return Promise.race([guarded, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Calls `listener` with every message published on `channel` (prefixed
   * here). The subscriber connection is a duplicate of the client, created on
   * first use and closed by {@linkcode Connection.close}.
   *
   * @returns A function that removes the listener.
   */
  listen(channel: string, listener: (message: string) => void): () => void {
    const full = this.prefix + channel;
    let set = this.#listeners.get(full);
    if (set === undefined) {
      this.#listeners.set(full, set = new Set());
      const subscriber = this.#subscriber ??= this.#createSubscriber();
      subscriber.subscribe(full).catch(() => {
        // ioredis resubscribes by itself when the connection comes back.
      });
    }
    set.add(listener);
    return () => {
      if (!set.delete(listener) || set.size > 0) return;
      this.#listeners.delete(full);
      this.#subscriber?.unsubscribe(full).catch(() => {});
    };
  }

  /** Publishes `message` on `channel` (prefixed here), under the deadline. */
  publish(channel: string, message: string): Promise<unknown> {
    return this.call(
      `PUBLISH ${channel}`,
      (c) => c.call("PUBLISH", this.prefix + channel, message),
    );
  }

  #createSubscriber(): RedisClient {
    const subscriber = this.client.duplicate();
    subscriber.on("message", this.#onMessage);
    // An unreachable Redis is reported by the calls that need it; the
    // subscriber's own connection errors would otherwise be unhandled events.
    subscriber.on("error", noop);
    return subscriber;
  }

  /** Closes the subscriber connection (the adapter's own); `ownsClient` closes the client too. */
  async close(ownsClient: boolean): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#listeners.clear();
    if (subscriber !== undefined) {
      subscriber.off("message", this.#onMessage);
      await quit(subscriber, this.timeout);
    }
    if (ownsClient) await quit(this.client, this.timeout);
  }
}

function noop(): void {}

/** QUIT, but never wait longer than `ms`: a Redis that is down gets a hard disconnect. */
async function quit(client: RedisClient, ms: number): Promise<void> {
  if (client.status === "end") return;
  let timer: Timer | undefined;
  const late = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  try {
    await Promise.race([client.quit().then(noop, noop), late]);
  } finally {
    clearTimeout(timer);
    if (client.status !== "end") client.disconnect();
  }
}
