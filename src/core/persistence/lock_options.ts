/**
 * A lock's options (`scope.acquireLock()`, `new Lock()`, `createLock()`) and
 * those of its `acquire()`, `read()` and `write()`: their types and their
 * validation.
 *
 * @module
 */
import type { LockProvider } from "./persistence.ts";
import {
  assertKnownKeys,
  assertMs,
  assertObject,
  assertString,
  describe,
  fail,
  typeError,
} from "../base/_validate.ts";

/**
 * Options of `scope.acquireLock()` and `new Lock()`.
 *
 * @example
 * ```ts
 * import { type LockOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: LockOptions = { key: "report:7", ttl: 10_000 };
 * await using s = scope();
 * await using guard = await s.acquireLock(options).acquire({ timeout: 1000 });
 * ```
 */
export interface LockOptions {
  /** Where keyed locks are held. @default the scope's `persistence.lock`, else a process-wide in-memory store */
  provider?: LockProvider;
  /** A name every contender shares. Without it the lock is local to this `Lock` object. */
  key?: string;
  /** Keyed locks: ms until a holder that stopped extending loses the lock (held locks are extended at 60% of it). @default 30000 */
  ttl?: number;
  /** Keyed locks: who holds it. @default a random id */
  owner?: string;
  /** A read-write lock: use `read()` and `write()` instead of `acquire()`. @default false */
  allowMultipleReaders?: boolean;
  /** For logs. @default `lock-<n>` */
  name?: string;
}

/** Options of `acquire()`, `read()` and `write()`. */
export interface LockAcquireOptions {
  /** Give up after this many ms with a `TimeoutError` (0: try once). @default wait until the scope aborts */
  timeout?: number;
  /** Local locks: a higher priority is served first. @default 0 */
  priority?: number;
  /** Keyed locks: ms between tries when the provider cannot signal releases. @default 100 */
  pollInterval?: number;
}

const KNOWN = ["provider", "key", "ttl", "owner", "allowMultipleReaders", "name"] as const;
export const ACQUIRE_KNOWN = ["timeout", "priority", "pollInterval"] as const;
const WHAT = "Cannot create lock";

/** Checks a lock's constructor arguments; returns the options (`{}` when none). */
export function checkLockOptions(
  signal: AbortSignal | undefined,
  options: LockOptions | undefined,
): LockOptions {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(WHAT, "signal", "an AbortSignal", signal, false);
  }
  const o = options ?? {};
  assertObject(WHAT, "options", o);
  assertKnownKeys(WHAT, o, KNOWN);
  if (o.key !== undefined) assertString(WHAT, "key", o.key);
  if (o.owner !== undefined) assertString(WHAT, "owner", o.owner);
  if (o.name !== undefined) assertString(WHAT, "name", o.name);
  if (o.ttl !== undefined) assertMs(WHAT, "ttl", o.ttl);
  if (o.allowMultipleReaders !== undefined && typeof o.allowMultipleReaders !== "boolean") {
    fail(WHAT, "allowMultipleReaders", "a boolean", o.allowMultipleReaders, false);
  }
  if (o.provider !== undefined) assertProvider(o.provider);
  if (o.provider !== undefined && o.key === undefined) {
    throw typeError(`${WHAT}: "key" is required with "provider", received undefined`);
  }
  return o;
}

function assertProvider(provider: unknown): asserts provider is LockProvider {
  if (typeof provider !== "object" || provider === null) {
    throw typeError(
      `${WHAT}: "provider" must be a LockProvider (acquire, extend, forceRelease), received ${
        describe(provider)
      }`,
    );
  }
  const p = provider as Record<string, unknown>;
  const missing = ["acquire", "extend", "forceRelease"].find((m) => typeof p[m] !== "function");
  if (missing !== undefined) {
    throw typeError(
      `${WHAT}: "provider" must be a LockProvider (acquire, extend, forceRelease), received ${
        describe(provider)
      } without ${missing}`,
    );
  }
}
