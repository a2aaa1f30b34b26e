/**
 * Heap monitoring: {@linkcode MemoryMonitor}, the scope options
 * `memoryLimit` / `onMemoryPressure`, `scope.memoryUsage()` and
 * `scope.setMemoryLimit()`. The heap is read from `process.memoryUsage()`
 * (Node, Deno, Bun) or `performance.memory` (Chromium), found through
 * `globalThis`; elsewhere monitoring is unavailable.
 *
 * @module
 */
import { ABORT, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import { assertKnownKeys, assertMs, describe, fail, optionError } from "../base/_validate.ts";
import { defaultLogger } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * A heap reading, in bytes.
 *
 * @example
 * ```ts
 * import { getMemoryUsage, type MemoryUsage } from "@go-go-scope/adapter-fastify/core";
 *
 * const usage: MemoryUsage = getMemoryUsage();
 * console.log(usage.used >= 0); // true
 * ```
 */
export interface MemoryUsage {
  /** Heap in use. */
  used: number;
  /** Heap allocated. */
  total: number;
  /** The limit the percentage is of: the monitor's, or the heap total. */
  limit: number;
  /** `used` as a percentage of `limit`. */
  percentageUsed: number;
  /** True when `used` exceeds the monitor's limit. */
  isOverLimit: boolean;
}

/**
 * Options of {@linkcode MemoryMonitor} and of the scope option `memoryLimit`.
 *
 * @example
 * ```ts
 * import type { MemoryLimitConfig } from "@go-go-scope/adapter-fastify/core";
 *
 * const config: MemoryLimitConfig = { limit: "512mb", pressureThreshold: 90 };
 * console.log(config.limit); // 512mb
 * ```
 */
export interface MemoryLimitConfig {
  /** Bytes, or a string such as `"100mb"` (b, kb, mb, gb, tb; powers of 1024). */
  limit: number | string;
  /** Called (at most once a second) when usage reaches `pressureThreshold` % of the limit (0: always). */
  onPressure?: (usage: MemoryUsage) => void;
  /** Ms between checks. @default 5000 */
  checkInterval?: number;
  /** Percentage of the limit that counts as pressure. @default 80 */
  pressureThreshold?: number;
}

const WHAT = "Cannot monitor memory";
const KNOWN = ["limit", "onPressure", "checkInterval", "pressureThreshold"] as const;
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
};
const COOLDOWN = 1000;

interface HeapSource {
  memoryUsage?: () => { heapUsed: number; heapTotal: number };
}
interface PerfMemory {
  memory?: { usedJSHeapSize: number; totalJSHeapSize: number; jsHeapSizeLimit: number };
}

/** Bytes from a number or a `"<n><unit>"` string. */
export function parseMemoryLimit(what: string, option: string, limit: unknown): number {
  const accepted = 'a number of bytes > 0 or a string such as "100mb" (b, kb, mb, gb, tb)';
  if (typeof limit === "number") {
    if (!(limit > 0) || !Number.isFinite(limit)) fail(what, option, accepted, limit, true);
    return limit;
  }
  if (typeof limit !== "string") fail(what, option, accepted, limit, false);
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(limit.trim());
  const bytes = match === null ? NaN : Number(match[1]) * UNITS[(match[2] ?? "b").toLowerCase()]!;
  if (!(bytes > 0)) {
    // Ends with go-go-scope's wording, which users match on.
    const message = `${what}: "${option}" must be ${accepted}, received ${describe(limit)}`;
    throw optionError(`${message} (Invalid memory limit format)`, true);
  }
  return bytes;
}

/**
 * True when this runtime exposes heap figures.
 *
 * @example
 * ```ts
 * import { isMemoryMonitoringAvailable } from "@go-go-scope/adapter-fastify/core";
 *
 * console.log(typeof isMemoryMonitoringAvailable()); // boolean
 * ```
 */
export function isMemoryMonitoringAvailable(): boolean {
  const proc = (globalThis as { process?: HeapSource }).process;
  if (typeof proc?.memoryUsage === "function") return true;
  return (globalThis.performance as PerfMemory | undefined)?.memory !== undefined;
}

/**
 * Reads the heap now. Its `limit` is the heap total (or the browser's heap
 * limit); all zeros when the runtime exposes nothing.
 *
 * @example
 * ```ts
 * import { getMemoryUsage } from "@go-go-scope/adapter-fastify/core";
 *
 * const { used, total } = getMemoryUsage();
 * console.log(used <= total || total === 0); // true
 * ```
 */
export function getMemoryUsage(): MemoryUsage {
  const proc = (globalThis as { process?: HeapSource }).process;
  let used = 0, total = 0, limit = 0;
  if (typeof proc?.memoryUsage === "function") {
    const u = proc.memoryUsage();
    used = u.heapUsed;
    total = u.heapTotal;
    limit = total || used;
  } else {
    const m = (globalThis.performance as PerfMemory | undefined)?.memory;
    if (m !== undefined) {
      used = m.usedJSHeapSize;
      total = m.totalJSHeapSize;
      limit = m.jsHeapSizeLimit;
    }
  }
  return {
    used,
    total,
    limit,
    percentageUsed: limit > 0 ? (used / limit) * 100 : 0,
    isOverLimit: false,
  };
}

/**
 * Checks the heap every `checkInterval` ms (and once at start) and calls
 * `onPressure` when usage reaches `pressureThreshold` % of `limit`. Dispose
 * it to stop; a scope's monitor stops when the scope aborts or is disposed.
 *
 * @example
 * ```ts
 * import { MemoryMonitor } from "@go-go-scope/adapter-fastify/core";
 *
 * using monitor = new MemoryMonitor({ limit: "4gb", checkInterval: 60_000 });
 * console.log(monitor.getLimit()); // 4294967296
 * ```
 */
export class MemoryMonitor implements Disposable, AsyncDisposable {
  #limit: number;
  readonly #onPressure: ((usage: MemoryUsage) => void) | undefined;
  readonly #threshold: number;
  readonly #owner: ScopeLike | undefined;
  #timer: Timer | undefined;
  #lastPressure = -Infinity;

  /**
   * Starts monitoring.
   *
   * @param config `limit`, and optionally `onPressure`, `checkInterval`, `pressureThreshold`.
   * @param owner The scope whose abort stops it (set by the `memoryLimit` option).
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(config: MemoryLimitConfig, owner?: ScopeLike) {
    if (typeof config !== "object" || config === null) {
      fail(WHAT, "config", "an object", config, false);
    }
    assertKnownKeys(WHAT, config, KNOWN);
    const { limit, onPressure, checkInterval, pressureThreshold } = config;
    this.#limit = parseMemoryLimit(WHAT, "limit", limit);
    if (onPressure !== undefined && typeof onPressure !== "function") {
      fail(WHAT, "onPressure", "a function", onPressure, false);
    }
    if (checkInterval !== undefined) assertMs(WHAT, "checkInterval", checkInterval);
    if (
      pressureThreshold !== undefined &&
      (typeof pressureThreshold !== "number" ||
        !(pressureThreshold >= 0 && pressureThreshold <= 100))
    ) {
      fail(
        WHAT,
        "pressureThreshold",
        "a percentage from 0 to 100",
        pressureThreshold,
        typeof pressureThreshold === "number",
      );
    }
    this.#onPressure = onPressure;
    this.#threshold = pressureThreshold ?? 80;
    this.#owner = owner;
    owner?.[ATTACH](this);
    this.#timer = setInterval(() => this.#check(), checkInterval ?? 5000);
    this.#check();
  }

  /** The heap now, against this monitor's limit. */
  getUsage(): MemoryUsage {
    const usage = getMemoryUsage();
    usage.limit = this.#limit;
    usage.percentageUsed = (usage.used / this.#limit) * 100;
    usage.isOverLimit = usage.used > this.#limit;
    return usage;
  }

  /** The limit in bytes. */
  getLimit(): number {
    return this.#limit;
  }

  /** Changes the limit (bytes, or a string such as `"200mb"`). */
  setLimit(limit: number | string): void {
    this.#limit = parseMemoryLimit("Cannot set memory limit", "limit", limit);
  }

  /** Stops monitoring. Idempotent. */
  [Symbol.dispose](): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#owner?.[DETACH](this);
  }

  /** Stops monitoring. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** @internal The owning scope aborted. */
  [ABORT](): void {
    this[Symbol.dispose]();
  }

  #check(): void {
    if (this.#timer === undefined || this.#onPressure === undefined) return;
    const usage = this.getUsage();
    if (usage.percentageUsed < this.#threshold && !usage.isOverLimit) return;
    const now = performance.now();
    if (now - this.#lastPressure < COOLDOWN) return;
    this.#lastPressure = now;
    try {
      this.#onPressure(usage);
    } catch (error) {
      (this.#owner?.logger ?? defaultLogger).error({ err: error }, "onMemoryPressure threw");
    }
  }
}

// Each monitored scope's monitor, off the Scope object.
const monitors = new WeakMap<ScopeLike, MemoryMonitor>();

/** Starts the monitor of the `memoryLimit` option. */
export function monitorScope(
  s: ScopeLike,
  memoryLimit: unknown,
  onMemoryPressure: unknown,
): void {
  const what = "Cannot create scope";
  let config: MemoryLimitConfig;
  if (typeof memoryLimit === "object" && memoryLimit !== null && !Array.isArray(memoryLimit)) {
    config = memoryLimit as MemoryLimitConfig;
    if (onMemoryPressure !== undefined && config.onPressure === undefined) {
      config = { ...config, onPressure: onMemoryPressure as (usage: MemoryUsage) => void };
    }
  } else {
    parseMemoryLimit(what, "memoryLimit", memoryLimit);
    config = { limit: memoryLimit as number | string };
    if (onMemoryPressure !== undefined) {
      if (typeof onMemoryPressure !== "function") {
        fail(what, "onMemoryPressure", "a function", onMemoryPressure, false);
      }
      config.onPressure = onMemoryPressure as (usage: MemoryUsage) => void;
    }
  }
  if (!isMemoryMonitoringAvailable()) return;
  monitors.set(s, new MemoryMonitor(config, s));
}

/** `scope.memoryUsage()`: the monitor's reading, a plain reading, or `undefined`. */
export function memoryUsageOf(s: ScopeLike): MemoryUsage | undefined {
  const m = monitors.get(s);
  if (m !== undefined) return m.getUsage();
  return isMemoryMonitoringAvailable() ? getMemoryUsage() : undefined;
}

/** The scope's monitor, if it has one. */
export function monitorOf(s: ScopeLike): MemoryMonitor | undefined {
  return monitors.get(s);
}

/** `scope.setMemoryLimit(limit)`. */
export function setMemoryLimit(s: ScopeLike, limit: number | string): void {
  const m = monitors.get(s);
  if (m === undefined) {
    throw new Error(
      "Cannot set memory limit: Memory monitoring not enabled (create the scope with the memoryLimit option)",
    );
  }
  m.setLimit(limit);
}
