/**
 * Metrics: task durations by outcome and route, request cancellations by
 * reason and route, live request scopes, and circuit breaker state changes,
 * as OpenTelemetry instruments.
 *
 * @module
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type UpDownCounter,
} from "@opentelemetry/api";
import type { CircuitBreaker, CircuitState } from "../core/mod.ts";
import type {
  InstrumentedScope,
  TaskInstrument,
  TaskOutcome,
  TaskProbe,
} from "../core/internal.ts";
import {
  type Feature,
  type ObservedView,
  reasonOf,
  type RequestEnd,
  type RequestWatcher,
} from "../fastify/_observe.ts";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./_package.ts";

/** The HTTP semantic conventions' advised buckets for durations, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

/** The instruments, created once per registration. */
interface Instruments {
  readonly duration: Histogram;
  readonly cancellations: Counter;
  readonly active: UpDownCounter;
  readonly breakerChanges: Counter;
}

/** Times one task; records its duration with its outcome (and route) when it settles. */
class TaskTimer implements TaskProbe {
  readonly #histogram: Histogram;
  readonly #route: string | undefined;
  readonly #start = performance.now();
  constructor(histogram: Histogram, route: string | undefined) {
    this.#histogram = histogram;
    this.#route = route;
  }
  run<A, R>(fn: (arg: A) => R, arg: A): R {
    return fn(arg);
  }
  retry(): void {}
  end(outcome: TaskOutcome): void {
    const attributes: Attributes = { "gogoscope.task.outcome": outcome };
    if (this.#route !== undefined) attributes["http.route"] = this.#route;
    this.#histogram.record((performance.now() - this.#start) / 1000, attributes);
  }
}

/** One request scope: counted live until it ends, its cancellation counted by reason. */
class RequestMetrics implements RequestWatcher {
  readonly #instruments: Instruments;
  readonly #route: string | undefined;
  readonly #attributes: Attributes;
  constructor(instruments: Instruments, view: ObservedView) {
    this.#instruments = instruments;
    this.#route = view.route;
    this.#attributes = view.route === undefined ? {} : { "http.route": view.route };
    instruments.active.add(1, this.#attributes);
  }
  start(): TaskProbe {
    return new TaskTimer(this.#instruments.duration, this.#route);
  }
  end(how: RequestEnd): void {
    this.#instruments.active.add(-1, this.#attributes);
    if (how.cancelled === undefined) return;
    this.#instruments.cancellations.add(1, {
      ...this.#attributes,
      "gogoscope.cancel.reason": reasonOf(how.cancelled),
    });
  }
}

/** The `metrics` feature. */
export class Metrics implements Feature {
  readonly #instruments: Instruments;
  readonly root: TaskInstrument;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #breakers = new Set<CircuitBreaker>();

  /** @param meter The meter to use; the global provider's when omitted. */
  constructor(meter?: Meter) {
    const m = meter ?? metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    const instruments: Instruments = {
      duration: m.createHistogram("gogoscope.task.duration", {
        description: "Duration of tasks, from start to settlement, by outcome.",
        unit: "s",
        advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
      }),
      cancellations: m.createCounter("gogoscope.request.cancellations", {
        description: "Request scopes cancelled before their response ended, by reason.",
        unit: "{request}",
      }),
      active: m.createUpDownCounter("gogoscope.request.active", {
        description: "Request scopes alive now.",
        unit: "{request}",
      }),
      breakerChanges: m.createCounter("gogoscope.circuit_breaker.state_changes", {
        description: "Circuit breaker transitions, by the state entered.",
        unit: "{change}",
      }),
    };
    this.#instruments = instruments;
    this.root = {
      start: (_task, _scope: InstrumentedScope): TaskProbe =>
        new TaskTimer(instruments.duration, undefined),
    };
  }

  watch(view: ObservedView): RequestWatcher {
    return new RequestMetrics(this.#instruments, view);
  }

  /** Counts the state changes of `breaker` (once per breaker, until the app closes). */
  breaker(breaker: CircuitBreaker): void {
    if (this.#breakers.has(breaker)) return;
    this.#breakers.add(breaker);
    const counter = this.#instruments.breakerChanges;
    this.#unsubscribe.push(breaker.on("stateChange", (from: CircuitState, to: CircuitState) => {
      counter.add(1, {
        "gogoscope.circuit_breaker.state": to,
        "gogoscope.circuit_breaker.previous_state": from,
      });
    }));
  }

  closing(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#breakers.clear();
  }
}
