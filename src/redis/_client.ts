// The part of an ioredis client the adapter uses, described structurally so
// that any ioredis 5 or 6 client (or a compatible one) fits and the adapter's
// types do not depend on one ioredis release.

/** What the adapter calls on a Redis client (an ioredis `Redis` fits). */
export interface RedisClient {
  /** ioredis connection status: `"wait"`, `"connecting"`, `"ready"`, `"end"`, ... */
  readonly status: string;
  /** Any Redis command (`call("SET", key, value, "PX", 100)`). */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: string[]) => void): unknown;
  off(event: string, listener: (...args: string[]) => void): unknown;
  duplicate(): RedisClient;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
}
