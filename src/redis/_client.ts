// The part of an ioredis client the adapter uses, described structurally so
// that any ioredis 5 or 6 client (or a compatible one) fits and the adapter's
// types do not depend on one ioredis release.

/** What the adapter calls on a Redis client (an ioredis `Redis` fits). */
export interface RedisClient {
  /** ioredis connection status: `"wait"`, `"connecting"`, `"ready"`, `"end"`, ... */
  readonly status: string;
  /** Any Redis command (`call("SET", key, value, "PX", 100)`). */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** Subscribes to pub/sub channels (a subscriber connection only). */
  subscribe(...channels: string[]): Promise<unknown>;
  /** Leaves pub/sub channels. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Adds an event listener (`"message"`, `"error"`, ...). */
  on(event: string, listener: (...args: string[]) => void): unknown;
  /** Removes an event listener. */
  off(event: string, listener: (...args: string[]) => void): unknown;
  /** A new connection with the same options. */
  duplicate(): RedisClient;
  /** Connects a client created with `lazyConnect`. */
  connect(): Promise<void>;
  /** Closes the connection after pending replies. */
  quit(): Promise<unknown>;
  /** Closes the connection at once. */
  disconnect(): void;
}
