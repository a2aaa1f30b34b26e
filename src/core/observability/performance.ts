/**
 * Small measurement helpers: `benchmark()` and `MemoryTracker` (and, in
 * `performance_monitor.ts`, `performanceMonitor()`). Time comes from `performance.now()`; heap figures
 * from `process.memoryUsage()` (Node, Deno 2, Bun), looked up on
 * `globalThis`, so in a browser there are none (0 / absent).
 *
 * @module
 */
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertString,
  fail,
} from "../base/_validate.ts";

/** @internal */
export interface HeapUsage {
  heapUsed: number;
  heapTotal: number;
}
type RuntimeGlobals = { process?: { memoryUsage?: () => HeapUsage } };

/** @internal The heap in use and reserved, in bytes, or `undefined` where the runtime does not say. */
export function heapUsage(): HeapUsage | undefined {
  const g = globalThis as RuntimeGlobals;
  try {
    return g.process?.memoryUsage?.();
  } catch {
    return undefined; // e.g. denied by a sandbox
  }
}

/** Options of {@linkcode benchmark}. */
export interface BenchmarkOptions {
  /** Calls before measuring. @default 100 */
  warmup?: number;
  /** Measured calls. @default 1000 */
  iterations?: number;
  /** Time bound, as go-go-scope has it: measuring stops early after 10 × this many ms. @default 1000 */
  minDuration?: number;
}

/** What {@linkcode benchmark} measured; durations in ms. */
export interface BenchmarkResult {
  /** The benchmark's name. */
  name: string;
  /** Measured runs (warm-up runs excluded). */
  iterations: number;
  /** All measured runs together. */
  totalDuration: number;
  /** Mean of one run. */
  avgDuration: number;
  /** Fastest run. */
  minDuration: number;
  /** Slowest run. */
  maxDuration: number;
  /** Runs per second at the mean. */
  opsPerSecond: number;
}

/**
 * Times `fn` (sync or async, awaited): `warmup` calls, then up to
 * `iterations` measured calls.
 *
 * @param name Carried into the result.
 * @param fn The code to time.
 * @param options `warmup`, `iterations`, `minDuration`.
 * @returns Total, average, min and max duration and operations per second.
 * @throws {TypeError | RangeError} (as a rejection) When an argument or option is invalid.
 *
 * @example
 * ```ts
 * import { benchmark } from "@go-go-scope/adapter-fastify/core";
 *
 * const r = await benchmark("sum", () => void [1, 2, 3].reduce((a, b) => a + b), {
 *   warmup: 5,
 *   iterations: 50,
 * });
 * console.log(r.name, r.iterations); // sum 50
 * ```
 */
export async function benchmark(
  name: string,
  fn: () => unknown,
  options: BenchmarkOptions = {},
): Promise<BenchmarkResult> {
  const what = "Cannot run benchmark";
  assertString(what, "name", name);
  assertFunction(what, "fn", fn);
  assertObject(what, "options", options);
  assertKnownKeys(what, options, ["warmup", "iterations", "minDuration"]);
  const { warmup = 100, iterations = 1000, minDuration = 1000 } = options;
  assertInteger(what, "warmup", warmup, 0);
  assertInteger(what, "iterations", iterations, 1);
  assertMs(what, "minDuration", minDuration);
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < iterations && performance.now() - start < minDuration * 10) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  const total = times.reduce((a, b) => a + b, 0);
  const avg = total / times.length;
  return {
    name,
    iterations: times.length,
    totalDuration: total,
    avgDuration: avg,
    minDuration: Math.min(...times),
    maxDuration: Math.max(...times),
    opsPerSecond: avg > 0 ? 1000 / avg : Infinity,
  };
}

/**
 * Records heap snapshots to spot growth. Where the runtime reports no heap
 * (browsers), `snapshot()` returns 0 and records nothing.
 *
 * @example
 * ```ts
 * import { MemoryTracker } from "@go-go-scope/adapter-fastify/core";
 *
 * const tracker = new MemoryTracker(10);
 * for (let i = 0; i < 5; i++) tracker.snapshot();
 * console.log(typeof tracker.checkForLeaks(50), tracker.getSnapshots().length <= 5); // boolean true
 * ```
 */
export class MemoryTracker {
  readonly #max: number;
  #snapshots: { timestamp: number; usage: number }[] = [];

  /**
   * Creates a tracker with no snapshots.
   *
   * @param maxSnapshots How many snapshots to keep (oldest dropped). @default 50
   * @throws {TypeError | RangeError} When not an integer >= 1.
   */
  constructor(maxSnapshots = 50) {
    assertInteger("Cannot create memory tracker", "maxSnapshots", maxSnapshots, 1);
    this.#max = maxSnapshots;
  }

  /** Records the heap in use now and returns it in bytes (0 where unknown). */
  snapshot(): number {
    const heap = heapUsage();
    if (heap === undefined) return 0;
    this.#snapshots.push({ timestamp: performance.now(), usage: heap.heapUsed });
    if (this.#snapshots.length > this.#max) this.#snapshots.shift();
    return heap.heapUsed;
  }

  /** True when, over at least 5 snapshots, the heap grew by more than `thresholdPercent`. */
  checkForLeaks(thresholdPercent = 10): boolean {
    if (typeof thresholdPercent !== "number" || !Number.isFinite(thresholdPercent)) {
      fail(
        "Cannot check for leaks",
        "thresholdPercent",
        "a finite number",
        thresholdPercent,
        false,
      );
    }
    const s = this.#snapshots;
    if (s.length < 5) return false;
    const first = s[0]!.usage;
    return first > 0 && ((s[s.length - 1]!.usage - first) / first) * 100 > thresholdPercent;
  }

  /** Heap growth between the first and last snapshot, in bytes per second (0 with fewer than 2). */
  getGrowthRate(): number {
    const s = this.#snapshots;
    if (s.length < 2) return 0;
    const first = s[0]!;
    const last = s[s.length - 1]!;
    const seconds = (last.timestamp - first.timestamp) / 1000;
    return seconds > 0 ? (last.usage - first.usage) / seconds : 0;
  }

  /** A copy of the snapshots, oldest first. */
  getSnapshots(): { timestamp: number; usage: number }[] {
    return this.#snapshots.map((s) => ({ ...s }));
  }
}
