// The scope options of parity 2 (primitives): validated and applied here, by
// one call at the end of the Scope constructor, only when the options object
// names one of them (or the inherited logger is correlated).
import { correlate, isCorrelatedLogger, isTraceId } from "./observability/log_correlation.ts";
import { LOG_LEVELS, withLogLevel } from "./base/log_level.ts";
import { assertOneOf, fail } from "./base/_validate.ts";
import { shutdownScope } from "./lifecycle/graceful_shutdown.ts";
import { installHooks } from "./observability/hooks.ts";
import { monitorScope } from "./observability/memory_monitor.ts";
import type { Logger } from "./base/types.ts";
import type { Scope, ScopeOptions } from "./scope.ts";

/** The option names, for the constructor's unknown-key check. */
export const PRIMITIVE_OPTION_KEYS = [
  "logLevel",
  "logCorrelation",
  "traceId",
  "hooks",
  "memoryLimit",
  "onMemoryPressure",
  "gracefulShutdown",
] as const;

const WHAT = "Cannot create scope";

/** True when `options` uses a parity 2 option or `logger` is correlated (children get a span). */
export function wantsPrimitives(options: ScopeOptions, logger: Logger): boolean {
  return options.logLevel !== undefined || options.logCorrelation !== undefined ||
    options.traceId !== undefined || options.hooks !== undefined ||
    options.memoryLimit !== undefined || options.onMemoryPressure !== undefined ||
    options.gracefulShutdown !== undefined || isCorrelatedLogger(logger);
}

/** Validates and applies the parity 2 options; returns the scope's logger. */
export function applyPrimitiveOptions(s: Scope, options: ScopeOptions, logger: Logger): Logger {
  const {
    logLevel,
    logCorrelation,
    traceId,
    hooks,
    memoryLimit,
    onMemoryPressure,
    gracefulShutdown,
  } = options;
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
  if (traceId !== undefined && !isTraceId(traceId)) {
    fail(
      WHAT,
      "traceId",
      "32 lowercase hex digits, not all zero",
      traceId,
      typeof traceId === "string",
    );
  }
  if (logCorrelation === false) {
    return isCorrelatedLogger(logger) ? logger.delegate : logger;
  }
  if (logCorrelation === true || traceId !== undefined || isCorrelatedLogger(logger)) {
    logger = correlate(s, logger, traceId);
  }
  return logger;
}
