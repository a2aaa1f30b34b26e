/**
 * The options of `scope()` and `scope.createChild()`: their type, their
 * validation, and the options applied once the scope exists (log level and
 * correlation, hooks, memory limit, graceful shutdown); and the settings,
 * validated by the Fastify plugin beforehand, that request scopes are built from.
 *
 * @module
 */
import type { CircuitBreaker } from "./resilience/circuit_breaker.ts";
import type { CircuitBreakerOptions } from "./resilience/circuit_breaker_options.ts";
import { toBreaker } from "./resilience/_breaker_option.ts";
import type { PersistenceOption } from "./persistence/scope_persistence.ts";
import {
  type ScopeIdempotencyOptions,
  setScopeIdempotency,
} from "./resilience/scope_idempotency.ts";
import { correlate, isCorrelatedLogger } from "./observability/log_correlation.ts";
import { LOG_LEVELS, type LogLevel, withLogLevel } from "./base/log_level.ts";
import { type GracefulShutdownOptions, shutdownScope } from "./lifecycle/graceful_shutdown.ts";
import { installHooks, type ScopeHooks } from "./observability/hooks.ts";
import {
  type MemoryLimitConfig,
  type MemoryUsage,
  monitorScope,
} from "./observability/memory_monitor.ts";
import type { Logger } from "./base/types.ts";
import type { ScopeLike } from "./base/scope_like.ts";
import {
  assertInstance,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertOneOf,
  assertString,
  fail,
  keysOf,
} from "./base/_validate.ts";

/**
 * Options of `scope()` and `scope.createChild()`.
 *
 * @example
 * ```ts
 * import { scope, type ScopeOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ScopeOptions = { name: "job", timeout: 5000, concurrency: 2 };
 * await using s = scope(options);
 * console.log(s.name); // job
 * ```
 */
export interface ScopeOptions {
  /** For logs and errors. @default `scope-<n>` */
  name?: string;
  /** The parent: this scope aborts when it aborts, and it disposes this scope. */
  parent?: ScopeLike;
  /** An external signal; aborting it aborts the scope. */
  signal?: AbortSignal;
  /** Milliseconds until the scope aborts with a `TimeoutError`. No timer without it. */
  timeout?: number;
  /**
   * At most this many of the scope's tasks run at once; the rest wait in
   * order (higher `priority` first). @default the parent's limit (each scope
   * counts its own tasks), or none
   */
  concurrency?: number;
  /**
   * A breaker shared with every task of this scope and of its children (an
   * instance), options for a new one, or `false` for none (not even the
   * parent's). @default the parent's breaker
   */
  circuitBreaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Values merged over the parent's context and passed to every task. */
  context?: Record<string, unknown>;
  /**
   * A logger: pino's (with `child()`, called `(obj, msg)`) or any other with
   * the four methods (called go-go-scope's way, `(message, ...args)`).
   * @default the parent's, or a console logger for warnings and errors
   */
  logger?: Logger;

  // ---- parity 1 options (scope-core) ----

  // ---- parity 2 options (primitives) ----
  /** Defaults for the scope's idempotent tasks: `{ defaultTTL }` (ms). @default the parent's */
  idempotency?: ScopeIdempotencyOptions;
  /** Entries below this level are not logged; with no `logger`, console shows this level and up. */
  logLevel?: LogLevel;
  /** Adds `traceId`/`spanId` to every log entry of this scope and its children. @default false */
  logCorrelation?: boolean;
  /** The trace to continue (any string; W3C `traceparent` uses 32 hex digits); implies `logCorrelation`. */
  traceId?: string;
  /** Lifecycle callbacks: `beforeTask`, `afterTask`, `onCancel`, `beforeDispose`, `afterDispose`. */
  hooks?: ScopeHooks;
  /** Watch the heap: bytes, `"100mb"`, or `{ limit, onPressure, checkInterval, pressureThreshold }`. */
  memoryLimit?: number | string | MemoryLimitConfig;
  /** Called under memory pressure (with a number or string `memoryLimit`). */
  onMemoryPressure?: (usage: MemoryUsage) => void;
  /** Cancel and dispose this scope on SIGTERM/SIGINT (see `GracefulShutdownController`). */
  gracefulShutdown?: GracefulShutdownOptions;

  // ---- persistence options (providers, redis) ----
  /**
   * Where keyed locks, breaker state, idempotent results, caches and
   * checkpoints are kept: an adapter, or `{ lock, circuitBreaker, idempotency,
   * cache, checkpoint }`. Merged over the parent's. @default in-memory providers
   */
  persistence?: PersistenceOption;
}

/**
 * What the Fastify plugin passes to create a request scope. Validated by the
 * caller (at registration and in onRoute), so the hot path builds no options
 * object and runs no validator.
 */
export interface ChildSettings {
  readonly name: string;
  readonly logger: Logger;
  readonly context: Readonly<Record<string, unknown>>;
  /** Milliseconds; `undefined` for no deadline. */
  readonly timeout: number | undefined;
  /** `undefined` for no limit. */
  readonly concurrency: number | undefined;
  /** `undefined` inherits the parent's breaker; `false` means none. */
  readonly circuitBreaker: CircuitBreaker | false | undefined;
}

const PRIMITIVE_OPTION_KEYS = [
  "idempotency",
  "logLevel",
  "logCorrelation",
  "traceId",
  "hooks",
  "memoryLimit",
  "onMemoryPressure",
  "gracefulShutdown",
] as const;

const KNOWN = keysOf<ScopeOptions>()([
  "name",
  "parent",
  "signal",
  "timeout",
  "concurrency",
  "circuitBreaker",
  "context",
  "logger",
  "persistence",
  ...PRIMITIVE_OPTION_KEYS,
]);
const WHAT = "Cannot create scope";

/**
 * Validates the options in the order of their fields (`persistence` aside:
 * `setPersistence()` checks it) and returns the breaker `circuitBreaker`
 * names, `false` for none, or `undefined` when it is not given.
 *
 * @param scopeClass The `Scope` class, that `parent` must be an instance of.
 * @throws {TypeError | RangeError} When an option is invalid; the message names it.
 */
export function checkScopeOptions(
  options: ScopeOptions,
  scopeClass: abstract new (...args: never[]) => ScopeLike,
): CircuitBreaker | false | undefined {
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
  const { name, parent, signal, timeout, concurrency, circuitBreaker, context, logger } = options;
  if (name !== undefined) assertString(WHAT, "name", name);
  if (parent !== undefined) assertInstance(WHAT, "parent", parent, scopeClass, "a Scope");
  if (signal !== undefined) {
    assertInstance<AbortSignal>(WHAT, "signal", signal, AbortSignal, "an AbortSignal");
  }
  if (timeout !== undefined) assertMs(WHAT, "timeout", timeout);
  if (concurrency !== undefined) assertInteger(WHAT, "concurrency", concurrency, 1);
  let breaker: CircuitBreaker | false | undefined;
  if (circuitBreaker !== undefined) {
    breaker = toBreaker(WHAT, "circuitBreaker", circuitBreaker, {
      orOptions: true,
      orFalse: true,
    });
  }
  if (context !== undefined) assertObject(WHAT, "context", context);
  if (logger !== undefined) checkLogger(logger);
  return breaker;
}

/** Returns `logger` if it has the four methods; throws a TypeError naming the option otherwise. */
export function checkLogger(logger: unknown, what: string = WHAT): Logger {
  const l = logger as Partial<Logger> | null;
  if (
    typeof l !== "object" || l === null || typeof l.debug !== "function" ||
    typeof l.info !== "function" ||
    typeof l.warn !== "function" || typeof l.error !== "function"
  ) {
    fail(what, "logger", "an object with debug, info, warn and error methods", logger, false);
  }
  return l as Logger;
}

/** True when `options` uses a parity 2 option or `logger` is correlated (children get a span). */
export function wantsPrimitives(options: ScopeOptions, logger: Logger): boolean {
  return options.idempotency !== undefined || options.logLevel !== undefined ||
    options.logCorrelation !== undefined ||
    options.traceId !== undefined || options.hooks !== undefined ||
    options.memoryLimit !== undefined || options.onMemoryPressure !== undefined ||
    options.gracefulShutdown !== undefined || isCorrelatedLogger(logger);
}

/** Validates and applies the parity 2 options; returns the scope's logger. */
export function applyPrimitiveOptions(
  s: ScopeLike,
  options: ScopeOptions,
  logger: Logger,
): Logger {
  const {
    idempotency,
    logLevel,
    logCorrelation,
    traceId,
    hooks,
    memoryLimit,
    onMemoryPressure,
    gracefulShutdown,
  } = options;
  if (idempotency !== undefined) setScopeIdempotency(s, idempotency);
  if (hooks !== undefined) installHooks(s, hooks);
  if (memoryLimit !== undefined) monitorScope(s, memoryLimit, onMemoryPressure);
  else if (onMemoryPressure !== undefined) {
    fail(WHAT, "onMemoryPressure", "used with memoryLimit", onMemoryPressure, false);
  }
  if (gracefulShutdown !== undefined) shutdownScope(s, gracefulShutdown);
  if (logLevel !== undefined) {
    assertOneOf(WHAT, "logLevel", logLevel, LOG_LEVELS);
    logger = withLogLevel(logger, logLevel);
  }
  if (logCorrelation !== undefined && typeof logCorrelation !== "boolean") {
    fail(WHAT, "logCorrelation", "a boolean", logCorrelation, false);
  }
  // Any string, as go-go-scope takes it (a W3C trace id, or a request id of your own).
  if (traceId !== undefined && (typeof traceId !== "string" || traceId === "")) {
    fail(WHAT, "traceId", "a non-empty string", traceId, typeof traceId === "string");
  }
  if (logCorrelation === false) {
    return isCorrelatedLogger(logger) ? logger.delegate : logger;
  }
  if (logCorrelation === true || traceId !== undefined || isCorrelatedLogger(logger)) {
    logger = correlate(s, logger, traceId);
  }
  return logger;
}
