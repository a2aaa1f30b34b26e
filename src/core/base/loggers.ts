/**
 * How the core writes to a logger: pino's `(obj, msg)` to a logger that has
 * `child()` (pino, Fastify's `request.log`), go-go-scope's
 * `(message, ...args)` to any other; the default logger; and a task's logger.
 *
 * @module
 */

/**
 * A logger. A pino logger (Fastify's `request.log`, anything with `child()`)
 * is called pino's way, `(obj, msg)`; any other logger go-go-scope's way,
 * `(message, ...args)`, as `console` is. Scopes pass theirs to every task and
 * use it to report errors that would otherwise be lost.
 *
 * @example
 * ```ts
 * import { type Logger, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const logger: Logger = console;
 * await using s = scope({ logger });
 * s.logger.info("ready", { port: 3000 }); // console.info("ready", { port: 3000 })
 * ```
 */
export interface Logger {
  /** Debug-level entry: `(obj, msg)` or `(message, ...args)`. */
  debug(obj: unknown, ...args: unknown[]): void;
  /** Info-level entry: `(obj, msg)` or `(message, ...args)`. */
  info(obj: unknown, ...args: unknown[]): void;
  /** Warning: `(obj, msg)` or `(message, ...args)`. */
  warn(obj: unknown, ...args: unknown[]): void;
  /** Error: `(obj, msg)` or `(message, ...args)`. */
  error(obj: unknown, ...args: unknown[]): void;
}

/** The four levels, lowest first. */
export type Level = "debug" | "info" | "warn" | "error";

/**
 * Set on the core's own wrappers: `true` when the logger they write to takes
 * pino's `(obj, msg)`, `false` when it takes go-go-scope's calls. Either way
 * the wrapper itself accepts both.
 */
export const OBJECT_FIRST: unique symbol = Symbol("objectFirst");

/** Whether `logger` takes pino's `(obj, msg)`: one of our wrappers says so, or it has `child()`. */
export function isObjectFirst(logger: Logger): boolean {
  const marked = (logger as { [OBJECT_FIRST]?: boolean })[OBJECT_FIRST];
  return marked ?? typeof (logger as { child?: unknown }).child === "function";
}

/** A call in either convention as go-go-scope's: pino's `(obj, msg, ...)` becomes `(msg, obj, ...)`. */
export function messageFirst(args: readonly unknown[]): unknown[] {
  if (args.length >= 2 && typeof args[0] !== "string" && typeof args[1] === "string") {
    return [args[1], args[0], ...args.slice(2)];
  }
  return args as unknown[];
}

/** Writes a call of either convention to a logger that takes go-go-scope's. */
class MessageFirstLogger implements Logger {
  readonly [OBJECT_FIRST] = false;
  readonly #target: Logger;

  constructor(target: Logger) {
    this.#target = target;
  }

  debug(...args: unknown[]): void {
    this.#target.debug(...messageFirst(args) as [unknown]);
  }

  info(...args: unknown[]): void {
    this.#target.info(...messageFirst(args) as [unknown]);
  }

  warn(...args: unknown[]): void {
    this.#target.warn(...messageFirst(args) as [unknown]);
  }

  error(...args: unknown[]): void {
    this.#target.error(...messageFirst(args) as [unknown]);
  }
}

/**
 * The logger a scope keeps for a given one: a pino logger (or one of our
 * wrappers) as it is; any other wrapped, so that the core's own `(obj, msg)`
 * entries reach it as `(msg, obj)`.
 */
export function scopeLogger(logger: Logger): Logger {
  if (OBJECT_FIRST in logger || typeof (logger as { child?: unknown }).child === "function") {
    return logger;
  }
  return new MessageFirstLogger(logger);
}

/** Prefixes each message with the scope and task: go-go-scope's per-task logger. */
class TaskLogger implements Logger {
  readonly [OBJECT_FIRST] = false;
  readonly #target: Logger;
  readonly #prefix: string;

  constructor(target: Logger, prefix: string) {
    this.#target = target;
    this.#prefix = prefix;
  }

  #args(args: readonly unknown[]): [unknown, ...unknown[]] {
    const call = messageFirst(args);
    if (typeof call[0] === "string") return [`${this.#prefix} ${call[0]}`, ...call.slice(1)];
    return [this.#prefix, ...call];
  }

  debug(...args: unknown[]): void {
    this.#target.debug(...this.#args(args));
  }

  info(...args: unknown[]): void {
    this.#target.info(...this.#args(args));
  }

  warn(...args: unknown[]): void {
    this.#target.warn(...this.#args(args));
  }

  error(...args: unknown[]): void {
    this.#target.error(...this.#args(args));
  }
}

/**
 * A task's `ctx.logger`: the scope's logger itself when it is a pino logger
 * (its entries are structured already), else one that prefixes each message
 * with `[scope/task#id]`, as go-go-scope's task loggers do.
 */
export function taskLogger(
  logger: Logger,
  scopeName: string,
  task: { readonly name: string; readonly id: number },
): Logger {
  if (isObjectFirst(logger)) return logger;
  return new TaskLogger(logger, `[${scopeName}/${task.name}#${task.id}]`);
}

function noop(): void {}

/** Console output for a call of either convention. */
function toConsole(level: "warn" | "error"): (...args: unknown[]) => void {
  return (...args) => {
    const call = messageFirst(args);
    // A lone pino-style object: printed after an empty message, as before.
    if (call.length === 1 && typeof call[0] !== "string") console[level]("", call[0]);
    else console[level](...call);
  };
}

/** The logger scopes use when none is given: silent for debug and info. */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: toConsole("warn"),
  error: toConsole("error"),
};
