/**
 * Log correlation: with the scope option `logCorrelation: true`, a scope gets
 * a `traceId` (given by the `traceId` option, inherited from the nearest
 * correlated ancestor, or generated) and a `spanId` of its own, and its logger
 * adds `{ traceId, spanId, scopeName, parentSpanId }` to every entry. Child
 * scopes of a correlated scope get their own `spanId` under the same trace.
 *
 * @module
 */
import {
  isObjectFirst,
  type Level,
  type Logger,
  messageFirst,
  OBJECT_FIRST,
} from "../base/loggers.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * The ids a {@linkcode CorrelatedLogger} adds to each entry.
 *
 * @example
 * ```ts
 * import { type CorrelationContext, generateSpanId, generateTraceId } from "@go-go-scope/adapter-fastify/core";
 *
 * const ctx: CorrelationContext = { traceId: generateTraceId(), spanId: generateSpanId(), scopeName: "job" };
 * console.log(ctx.traceId.length, ctx.spanId.length); // 32 16
 * ```
 */
export interface CorrelationContext {
  /** 32 lowercase hex digits (a W3C trace id). */
  traceId: string;
  /** 16 lowercase hex digits (a W3C parent/span id). */
  spanId: string;
  /** The span of the parent scope, if it had one. */
  parentSpanId?: string;
  /** The scope's name. */
  scopeName: string;
}

function hex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * A random W3C trace id: 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { generateTraceId } from "@go-go-scope/adapter-fastify/core";
 *
 * console.log(/^[0-9a-f]{32}$/.test(generateTraceId())); // true
 * ```
 */
export function generateTraceId(): string {
  return hex(16);
}

/**
 * A random W3C span id: 16 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { generateSpanId } from "@go-go-scope/adapter-fastify/core";
 *
 * console.log(/^[0-9a-f]{16}$/.test(generateSpanId())); // true
 * ```
 */
export function generateSpanId(): string {
  return hex(8);
}

/**
 * A logger that adds correlation ids to every entry of the logger it wraps.
 * A pino logger (one with `child()`) gets them as child bindings; any other
 * gets go-go-scope's format: each message prefixed with
 * `[traceId=…] [spanId=…]`, and the ids as the second argument when the call
 * had no other (a pino-style `(obj, msg)` call arrives as `(prefixed msg, obj)`).
 *
 * @example
 * ```ts
 * import { CorrelatedLogger, type Logger } from "@go-go-scope/adapter-fastify/core";
 *
 * const lines: unknown[][] = [];
 * const base: Logger = { debug() {}, info: (...args) => lines.push(args), warn() {}, error() {} };
 * const log = new CorrelatedLogger(base, { traceId: "abc", spanId: "def", scopeName: "job" });
 * log.info("started");
 * console.log(lines[0]); // [ "[traceId=abc] [spanId=def] started", { traceId: "abc", spanId: "def", scopeName: "job" } ]
 * ```
 */
export class CorrelatedLogger implements Logger {
  /** @internal Whether the wrapped logger takes pino's `(obj, msg)`. */
  readonly [OBJECT_FIRST]: boolean;
  readonly #correlation: CorrelationContext;
  readonly #delegate: Logger;
  readonly #target: Logger;
  readonly #bindings: Record<string, string>;
  /** `undefined` when the ids are bound with `child()` or merged into objects. */
  readonly #prefix: string | undefined;
  readonly #bound: boolean;

  /**
   * Wraps `delegate`, adding `correlation`'s ids to every line.
   *
   * @param delegate The logger to write to.
   * @param correlation The ids to add.
   */
  constructor(delegate: Logger, correlation: CorrelationContext) {
    this.#delegate = delegate;
    this.#correlation = { ...correlation };
    const bindings: Record<string, string> = {
      traceId: correlation.traceId,
      spanId: correlation.spanId,
      scopeName: correlation.scopeName,
    };
    if (correlation.parentSpanId !== undefined) bindings.parentSpanId = correlation.parentSpanId;
    this.#bindings = bindings;
    this[OBJECT_FIRST] = isObjectFirst(delegate);
    const child = (delegate as { child?: (bindings: unknown) => Logger }).child;
    this.#bound = typeof child === "function";
    this.#target = typeof child === "function" ? child.call(delegate, bindings) : delegate;
    this.#prefix = this[OBJECT_FIRST]
      ? undefined
      : `[traceId=${correlation.traceId}] [spanId=${correlation.spanId}]`;
  }

  /** The wrapped logger. */
  get delegate(): Logger {
    return this.#delegate;
  }

  /** Debug-level entry with the ids. */
  debug(obj: unknown, ...args: unknown[]): void {
    this.#write("debug", [obj, ...args]);
  }

  /** Info-level entry with the ids. */
  info(obj: unknown, ...args: unknown[]): void {
    this.#write("info", [obj, ...args]);
  }

  /** Warning with the ids. */
  warn(obj: unknown, ...args: unknown[]): void {
    this.#write("warn", [obj, ...args]);
  }

  /** Error with the ids. */
  error(obj: unknown, ...args: unknown[]): void {
    this.#write("error", [obj, ...args]);
  }

  /** A copy of the ids. */
  getCorrelationContext(): CorrelationContext {
    return { ...this.#correlation };
  }

  #write(level: Level, args: unknown[]): void {
    const target = this.#target;
    const prefix = this.#prefix;
    if (prefix !== undefined) {
      const call = messageFirst(args);
      const head = typeof call[0] === "string" ? `${prefix} ${call[0]}` : prefix;
      const rest = typeof call[0] === "string" ? call.slice(1) : call;
      target[level](head, ...(rest.length === 0 ? [{ ...this.#bindings }] : rest));
      return;
    }
    if (this.#bound) {
      target[level](...args as [unknown]);
      return;
    }
    // A pino-style logger without child(): the ids merged into the entry's object.
    const [obj, msg] = args;
    const bindings = this.#bindings;
    if (typeof obj === "string" && args.length === 1) target[level](bindings, obj);
    else if (obj instanceof Error) target[level]({ ...bindings, err: obj }, msg);
    else if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) {
      target[level]({ ...bindings, ...obj }, msg);
    } else target[level]({ ...bindings, value: obj }, msg);
  }
}

/**
 * Wraps `delegate` in a {@linkcode CorrelatedLogger}.
 *
 * @example
 * ```ts
 * import { createCorrelatedLogger, generateSpanId, generateTraceId, getCorrelationContext } from "@go-go-scope/adapter-fastify/core";
 *
 * const log = createCorrelatedLogger(console as never, { traceId: generateTraceId(), spanId: generateSpanId(), scopeName: "x" });
 * console.log(getCorrelationContext(log)?.scopeName); // x
 * ```
 */
export function createCorrelatedLogger(
  delegate: Logger,
  correlation: CorrelationContext,
): CorrelatedLogger {
  return new CorrelatedLogger(delegate, correlation);
}

/** True when `logger` is a {@linkcode CorrelatedLogger}. */
export function isCorrelatedLogger(logger: unknown): logger is CorrelatedLogger {
  return logger instanceof CorrelatedLogger;
}

/**
 * The ids of a correlated logger (such as `scope.logger` with
 * `logCorrelation: true`), or `undefined` for any other logger.
 *
 * @example
 * ```ts
 * import { getCorrelationContext, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ name: "job", logCorrelation: true });
 * console.log(getCorrelationContext(s.logger)?.traceId === s.traceId); // true
 * ```
 */
export function getCorrelationContext(logger: Logger): CorrelationContext | undefined {
  return logger instanceof CorrelatedLogger ? logger.getCorrelationContext() : undefined;
}

// Each correlated scope's ids, off the Scope object: scopes that never use
// correlation carry nothing.
const ids = new WeakMap<ScopeLike, CorrelationContext>();

/** The ids of `s` itself, if it is correlated. */
export function correlationOf(s: ScopeLike): CorrelationContext | undefined {
  return ids.get(s);
}

/** `scope.traceId`: the trace of `s` or of its nearest correlated ancestor. */
export function traceIdOf(s: ScopeLike): string | undefined {
  for (let c: ScopeLike | undefined = s; c !== undefined; c = c.parent) {
    const found = ids.get(c);
    if (found !== undefined) return found.traceId;
  }
  return undefined;
}

/**
 * Makes `s` correlated: records its ids and returns its logger wrapped with
 * them (unwrapping an inherited correlated logger first, so ids never stack).
 */
export function correlate(s: ScopeLike, logger: Logger, traceId: string | undefined): Logger {
  const parent = s.parent;
  const parentIds = parent === undefined ? undefined : nearest(parent);
  const correlation: CorrelationContext = {
    traceId: traceId ?? parentIds?.traceId ?? generateTraceId(),
    spanId: generateSpanId(),
    scopeName: s.name,
  };
  if (parentIds !== undefined) correlation.parentSpanId = parentIds.spanId;
  ids.set(s, correlation);
  const base = logger instanceof CorrelatedLogger ? logger.delegate : logger;
  return new CorrelatedLogger(base, correlation);
}

function nearest(s: ScopeLike): CorrelationContext | undefined {
  for (let c: ScopeLike | undefined = s; c !== undefined; c = c.parent) {
    const found = ids.get(c);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Makes `s` (created without options, e.g. a request scope) correlated under
 * an existing trace: records its ids and returns them. The caller binds them
 * to the logger it gave the scope.
 */
export function adoptTrace(
  s: ScopeLike,
  traceId: string,
  spanId: string,
  parentSpanId?: string,
): CorrelationContext {
  const correlation: CorrelationContext = { traceId, spanId, scopeName: s.name };
  if (parentSpanId !== undefined) correlation.parentSpanId = parentSpanId;
  ids.set(s, correlation);
  return correlation;
}
