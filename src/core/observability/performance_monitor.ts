/**
 * `performanceMonitor(scope)`: periodic snapshots of a scope's activity.
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { heapUsage } from "./performance.ts";
import { assertInteger, assertKnownKeys, assertMs, assertObject, fail } from "../base/_validate.ts";

/** What a monitor needs from its scope (a structural view of `Scope`). */
export interface MonitoredScope {
  /** Aborts when the scope ends: the monitor stops then. */
  readonly signal: AbortSignal;
  /** The scope's unsettled tasks. */
  readonly taskCount: number;
  /** The scope's live children. */
  readonly childCount: number;
}

/** One reading of a scope. Counters a scope does not keep read 0. */
export interface PerformanceMetrics {
  /** Tasks started so far (from `scope.metrics()` where the scope has it, else 0). */
  taskCount: number;
  /** Tasks not settled yet. */
  activeTaskCount: number;
  /** Open channels (0: not counted by this core). */
  channelCount: number;
  /** Live child scopes. */
  childScopeCount: number;
  /** From `scope.metrics()` where available, else 0. */
  resourcesRegistered: number;
  /** From `scope.metrics()` where available, else 0. */
  resourcesDisposed: number;
  /** From `scope.metrics()` where available, else 0. */
  averageTaskDuration: number;
  /** Milliseconds since the monitor was created. */
  scopeDuration: number;
  /** `taskCount` per second since the monitor was created. */
  tasksPerSecond: number;
  /** Heap in bytes, where the runtime reports it and `trackMemory` is on. */
  memoryUsage?: { used: number; total: number };
}

/** A timestamped reading. */
export interface PerformanceSnapshot {
  /** `performance.now()` when taken. */
  timestamp: number;
  /** The figures taken. */
  metrics: PerformanceMetrics;
}

/** Options of {@linkcode performanceMonitor}. */
export interface PerformanceMonitorOptions {
  /** Milliseconds between snapshots. @default 1000 */
  sampleInterval?: number;
  /** Snapshots kept (oldest dropped). @default 100 */
  maxSnapshots?: number;
  /** Include heap figures. @default true */
  trackMemory?: boolean;
}

/** Which way a figure moved over the kept snapshots. */
export type Trend = "increasing" | "decreasing" | "stable";
type OptionalMetrics = {
  metrics?: () => {
    tasksSpawned?: number;
    resourcesRegistered?: number;
    resourcesDisposed?: number;
    avgTaskDuration?: number;
  };
};
const WHAT = "Cannot create performance monitor";

/**
 * Takes snapshots of a scope every `sampleInterval` ms between `start()` and
 * `stop()`; stops by itself when the scope aborts or is disposed.
 *
 * @example
 * ```ts
 * import { PerformanceMonitor, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * using monitor = new PerformanceMonitor(s, { trackMemory: false });
 * await s.task(() => 1);
 * console.log(monitor.takeSnapshot().metrics.activeTaskCount); // 0
 * ```
 */
export class PerformanceMonitor implements Disposable {
  readonly #scope: MonitoredScope;
  readonly #interval: number;
  readonly #max: number;
  readonly #memory: boolean;
  readonly #start = performance.now();
  #snapshots: PerformanceSnapshot[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #watch: Disposable | undefined;

  /**
   * Starts monitoring `scope`.
   *
   * @param scope The scope to watch.
   * @param options `sampleInterval`, `maxSnapshots`, `trackMemory`.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(scope: MonitoredScope, options: PerformanceMonitorOptions = {}) {
    if (typeof scope !== "object" || scope === null || !(scope.signal instanceof AbortSignal)) {
      fail(WHAT, "scope", "a Scope", scope, false);
    }
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, ["sampleInterval", "maxSnapshots", "trackMemory"]);
    const { sampleInterval = 1000, maxSnapshots = 100, trackMemory = true } = options;
    assertMs(WHAT, "sampleInterval", sampleInterval);
    assertInteger(WHAT, "maxSnapshots", maxSnapshots, 1);
    if (typeof trackMemory !== "boolean") {
      fail(WHAT, "trackMemory", "a boolean", trackMemory, false);
    }
    this.#scope = scope;
    this.#interval = sampleInterval;
    this.#max = maxSnapshots;
    this.#memory = trackMemory;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sampling; does nothing while running or once the scope has aborted. */
  start(): void {
    if (this.#timer !== undefined || this.#scope.signal.aborted) return;
    this.#timer = setInterval(() => this.takeSnapshot(), this.#interval);
    this.#watch = onAbort(this.#scope.signal, () => this.stop());
  }

  /** Stops sampling (clears its timer and its listener on the scope). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watch?.[Symbol.dispose]();
    this.#watch = undefined;
  }

  /** Takes and keeps a snapshot now. */
  takeSnapshot(): PerformanceSnapshot {
    const snapshot = { timestamp: performance.now(), metrics: this.getMetrics() };
    this.#snapshots.push(snapshot);
    if (this.#snapshots.length > this.#max) this.#snapshots.shift();
    return snapshot;
  }

  /** Reads the scope now (without keeping a snapshot). */
  getMetrics(): PerformanceMetrics {
    const scope = this.#scope;
    const extra = (scope as OptionalMetrics).metrics?.();
    const elapsed = performance.now() - this.#start;
    const taskCount = extra?.tasksSpawned ?? 0;
    const metrics: PerformanceMetrics = {
      taskCount,
      activeTaskCount: scope.taskCount,
      channelCount: 0,
      childScopeCount: scope.childCount,
      resourcesRegistered: extra?.resourcesRegistered ?? 0,
      resourcesDisposed: extra?.resourcesDisposed ?? 0,
      averageTaskDuration: extra?.avgTaskDuration ?? 0,
      scopeDuration: elapsed,
      tasksPerSecond: elapsed > 0 ? taskCount / (elapsed / 1000) : 0,
    };
    const heap = this.#memory ? heapUsage() : undefined;
    if (heap !== undefined) metrics.memoryUsage = { used: heap.heapUsed, total: heap.heapTotal };
    return metrics;
  }

  /** A copy of the kept snapshots, oldest first. */
  getSnapshots(): PerformanceSnapshot[] {
    return [...this.#snapshots];
  }

  /** Direction of tasks per second and average task duration over the last 10 snapshots. */
  getTrends(): { taskRateTrend: Trend; durationTrend: Trend } {
    const recent = this.#snapshots.slice(-10);
    if (recent.length < 2) return { taskRateTrend: "stable", durationTrend: "stable" };
    const a = recent[0]!.metrics;
    const b = recent[recent.length - 1]!.metrics;
    return {
      taskRateTrend: trend(b.tasksPerSecond - a.tasksPerSecond),
      durationTrend: trend(b.averageTaskDuration - a.averageTaskDuration),
    };
  }

  /** Stops sampling. */
  [Symbol.dispose](): void {
    this.stop();
  }
}

function trend(change: number): Trend {
  return Math.abs(change) < 0.1 ? "stable" : change > 0 ? "increasing" : "decreasing";
}

/**
 * Creates a {@linkcode PerformanceMonitor} for `scope` and starts it.
 *
 * @param scope The scope to watch.
 * @param options `sampleInterval`, `maxSnapshots`, `trackMemory`.
 * @returns The running monitor; it stops with `stop()`, `using`, or when the scope ends.
 * @throws {TypeError | RangeError} When an option is invalid.
 *
 * @example
 * ```ts
 * import { performanceMonitor, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const s = scope();
 * const monitor = performanceMonitor(s, { sampleInterval: 5 });
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * await s[Symbol.asyncDispose](); // stops the monitor too
 * console.log(monitor.running, monitor.getSnapshots().length > 0); // false true
 * ```
 */
export function performanceMonitor(
  scope: MonitoredScope,
  options?: PerformanceMonitorOptions,
): PerformanceMonitor {
  const monitor = new PerformanceMonitor(scope, options);
  monitor.start();
  return monitor;
}
