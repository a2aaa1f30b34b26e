// How the plugin feeds its observability features (tracing, metrics, the
// inspector): one object per observed request scope, set as the scope's
// instrumentation hook (core/internal.ts), that fans each task out to the
// features and tells them when the request is over. Built only when a
// feature is on: without one, the plugin reads one field and goes on.
// Never re-exported by mod.ts.
import type { FastifyRequest } from "fastify";
import {
  type CircuitBreaker,
  ClientDisconnectedError,
  ResponseStreamError,
  type Scope,
  ServerClosingError,
  TimeoutError,
} from "../core/mod.ts";
import {
  type InstrumentedOptions,
  type InstrumentedScope,
  type InstrumentedTask,
  instrumentOf,
  instrumentScope,
  type TaskInstrument,
  type TaskOutcome,
  type TaskProbe,
} from "../core/internal.ts";

/** Why a request scope was cancelled, in the words of the metrics and spans. */
export type CancelReason =
  | "client_disconnected"
  | "timeout"
  | "shutdown"
  | "stream_error"
  | "cancelled";

/** The low-cardinality name of an abort reason. */
export function reasonOf(reason: unknown): CancelReason {
  if (reason instanceof ClientDisconnectedError) return "client_disconnected";
  if (reason instanceof TimeoutError) return "timeout";
  if (reason instanceof ServerClosingError) return "shutdown";
  if (reason instanceof ResponseStreamError) return "stream_error";
  return "cancelled";
}

/** A request scope as the features see it. */
export interface ObservedView {
  readonly request: FastifyRequest;
  readonly scope: Scope;
  readonly method: string;
  /** The route's pattern (`/users/:id`); `undefined` for a request no route matched. */
  readonly route: string | undefined;
  /** The path, without the query string. */
  readonly path: string;
  /** When the scope was created (`Date.now()`). */
  readonly startedAt: number;
  /** The scope's deadline in ms from `startedAt`, if any. */
  readonly deadline: number | undefined;
}

/** How a request ended, as the features are told. */
export interface RequestEnd {
  /** Why the scope was cancelled before or at the end (client left, timeout, shutdown, ...). */
  readonly cancelled: unknown;
  /** The response's status code, when its headers were sent. */
  readonly statusCode: number | undefined;
}

/** What a feature watches of one request: its tasks, and its end. */
export interface RequestWatcher extends TaskInstrument {
  end(how: RequestEnd): void;
}

/** One observability feature, as the plugin drives it. */
export interface Feature {
  /** Watches the root scope's tasks (background work), if it does. */
  readonly root: TaskInstrument | undefined;
  /** A request scope started: what watches it, if anything. */
  watch(view: ObservedView): RequestWatcher | undefined;
  /** A request scope that is not observed (the inspector's own requests): not to be shown. */
  hide?(scope: Scope): void;
  /** Watches a circuit breaker the plugin uses (the plugin's, a route's). */
  breaker?(breaker: CircuitBreaker): void;
  /** The app is closing (preClose): stop streams, unsubscribe. */
  closing?(): void;
}

/** A probe that fans out to several. */
class Probes implements TaskProbe {
  readonly #probes: TaskProbe[];
  constructor(probes: TaskProbe[]) {
    this.#probes = probes;
  }
  run<A, R>(fn: (arg: A) => R, arg: A): R {
    return this.#at(0, fn, arg);
  }
  #at<A, R>(i: number, fn: (arg: A) => R, arg: A): R {
    const probe = this.#probes[i];
    if (probe === undefined) return fn(arg);
    return probe.run((a: A) => this.#at(i + 1, fn, a), arg);
  }
  retry(attempt: number, error: Error, delayMs: number): void {
    for (const probe of this.#probes) probe.retry(attempt, error, delayMs);
  }
  end(outcome: TaskOutcome, error: Error | undefined, reason: unknown): void {
    for (const probe of this.#probes) probe.end(outcome, error, reason);
  }
}

/** Asks each instrument for a probe; one probe as is, several fanned out. */
function startAll(
  instruments: readonly TaskInstrument[],
  task: InstrumentedTask,
  scope: InstrumentedScope,
  fn: (...args: never[]) => unknown,
  options: InstrumentedOptions | undefined,
): TaskProbe | undefined {
  if (instruments.length === 1) return instruments[0]!.start(task, scope, fn, options);
  const probes: TaskProbe[] = [];
  for (const instrument of instruments) {
    const probe = instrument.start(task, scope, fn, options);
    if (probe !== undefined) probes.push(probe);
  }
  return probes.length === 0 ? undefined : probes.length === 1 ? probes[0] : new Probes(probes);
}

/** One observed request scope: its scope's instrument, ended once. */
export class ObservedRequest implements TaskInstrument {
  readonly #watchers: RequestWatcher[];
  readonly #observation: Observation;
  #ended = false;
  constructor(watchers: RequestWatcher[], observation: Observation) {
    this.#watchers = watchers;
    this.#observation = observation;
  }
  start(
    task: InstrumentedTask,
    scope: InstrumentedScope,
    fn: (...args: never[]) => unknown,
    options: InstrumentedOptions | undefined,
  ): TaskProbe | undefined {
    return startAll(this.#watchers, task, scope, fn, options);
  }
  /** The request is over; idempotent. */
  end(how: RequestEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#observation.live.delete(this);
    for (const watcher of this.#watchers) {
      try {
        watcher.end(how);
      } catch (error) {
        this.#observation.log(error);
      }
    }
  }
}

/** The plugin's observability: its features, the root's instrument, the live requests. */
export class Observation {
  readonly #features: readonly Feature[];
  readonly #skip: (route: string | undefined) => boolean;
  readonly #log: (error: unknown) => void;
  /** The request scopes observed and not ended yet. */
  readonly live: Set<ObservedRequest> = new Set();

  /**
   * @param features The features that are on (at least one).
   * @param skip Routes whose requests are not observed (the inspector's own).
   * @param log Where a feature's failure is reported (never thrown into a request).
   */
  constructor(
    features: readonly Feature[],
    skip: (route: string | undefined) => boolean,
    log: (error: unknown) => void,
  ) {
    this.#features = features;
    this.#skip = skip;
    this.#log = log;
  }

  log(error: unknown): void {
    this.#log(error);
  }

  /** Sets the root's instrument from the features that watch background tasks. */
  instrumentRoot(root: Scope): void {
    const instruments: TaskInstrument[] = [];
    for (const feature of this.#features) {
      if (feature.root !== undefined) instruments.push(feature.root);
    }
    if (instruments.length === 0) return;
    instrumentScope(root, {
      start: (task, scope, fn, options) => startAll(instruments, task, scope, fn, options),
    });
  }

  /** A request scope was created: observed from now on (unless skipped). */
  started(request: FastifyRequest, scope: Scope, deadline: number | undefined): void {
    const route = request.routeOptions.url;
    if (this.#skip(route)) {
      instrumentScope(scope, undefined);
      for (const feature of this.#features) feature.hide?.(scope);
      return;
    }
    const url = request.url;
    const query = url.indexOf("?");
    const view: ObservedView = {
      request,
      scope,
      method: request.method,
      route,
      path: query === -1 ? url : url.slice(0, query),
      startedAt: Date.now(),
      deadline,
    };
    const watchers: RequestWatcher[] = [];
    for (const feature of this.#features) {
      try {
        const watcher = feature.watch(view);
        if (watcher !== undefined) watchers.push(watcher);
      } catch (error) {
        this.#log(error);
      }
    }
    const observed = new ObservedRequest(watchers, this);
    this.live.add(observed);
    instrumentScope(scope, observed);
  }

  /** A breaker the plugin uses: features that watch breakers watch it. */
  breaker(breaker: CircuitBreaker): void {
    for (const feature of this.#features) feature.breaker?.(breaker);
  }

  /** preClose: the features stop their streams. */
  closing(): void {
    for (const feature of this.#features) feature.closing?.();
  }

  /** onClose: whatever is still observed ends now, as cancelled by the shutdown. */
  closed(): void {
    const reason = new ServerClosingError("Server closing: the application closed");
    for (const observed of [...this.live]) {
      observed.end({ cancelled: reason, statusCode: undefined });
    }
  }
}

/** The observed request of `scope`, if it is one. */
export function observedOf(scope: Scope): ObservedRequest | undefined {
  const instrument = instrumentOf(scope);
  return instrument instanceof ObservedRequest ? instrument : undefined;
}
