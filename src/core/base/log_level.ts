/**
 * The scope option `logLevel`: entries below the level are not written.
 *
 * @module
 */
import {
  defaultLogger,
  isObjectFirst,
  type Logger,
  messageFirst,
  OBJECT_FIRST,
} from "./loggers.ts";

/** The accepted `logLevel` values, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * A minimum log level.
 *
 * @example
 * ```ts
 * import { type LogLevel, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const level: LogLevel = "info";
 * await using s = scope({ logLevel: level });
 * s.logger.debug("not written");
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

function noop(): void {}

function consoleWrite(method: LogLevel): (...args: unknown[]) => void {
  return (...args) => {
    const call = messageFirst(args);
    if (call.length === 1 && typeof call[0] !== "string") console[method]("", call[0]);
    else console[method](...call);
  };
}

/**
 * `logger` limited to entries at `level` and above; it takes the same calls
 * as `logger` (and keeps its `child()`, whose loggers are limited too). The
 * default console logger (silent for debug and info) becomes a console logger
 * that writes every level from `level` up.
 */
export function withLogLevel(logger: Logger, level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const pick = (method: LogLevel): Logger[LogLevel] =>
    LOG_LEVELS.indexOf(method) < min
      ? noop
      : logger === defaultLogger
      ? consoleWrite(method)
      : (...args: unknown[]) => logger[method](...args as [unknown]);
  const leveled: Logger & { [OBJECT_FIRST]: boolean; child?: (bindings: unknown) => Logger } = {
    [OBJECT_FIRST]: isObjectFirst(logger),
    debug: pick("debug"),
    info: pick("info"),
    warn: pick("warn"),
    error: pick("error"),
  };
  const child = (logger as { child?: unknown }).child;
  if (typeof child === "function") {
    leveled.child = (bindings) => withLogLevel(child.call(logger, bindings) as Logger, level);
  }
  return leveled;
}
