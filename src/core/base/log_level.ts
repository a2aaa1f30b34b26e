/**
 * The scope option `logLevel`: entries below the level are not written.
 *
 * @module
 */
import { defaultLogger, type Logger } from "./types.ts";

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

function consoleWrite(method: "debug" | "info" | "warn" | "error") {
  return (obj: unknown, msg?: string): void => {
    if (msg === undefined) console[method](obj);
    else console[method](msg, obj);
  };
}

/**
 * `logger` limited to entries at `level` and above. The default console
 * logger (silent for debug and info) becomes a console logger that writes
 * every level from `level` up.
 */
export function withLogLevel(logger: Logger, level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const pick = (method: LogLevel): Logger[LogLevel] =>
    LOG_LEVELS.indexOf(method) < min
      ? noop
      : logger === defaultLogger
      ? consoleWrite(method)
      : (obj: unknown, msg?: string) => logger[method](obj, msg);
  return { debug: pick("debug"), info: pick("info"), warn: pick("warn"), error: pick("error") };
}
