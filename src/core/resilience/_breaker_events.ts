// The circuit breaker's subscriptions: on / off / once and the option hooks
// (onOpen, onStateChange, ...), kept apart from the state machine. Created on
// the first subscription, so a breaker nobody listens to allocates nothing.
// Calling the handlers (and reporting a throwing one) stays with the breaker.

import type { CircuitBreakerAdvancedOptions } from "./_adaptive_threshold.ts";
import type {
  CircuitBreakerEvent,
  CircuitBreakerEventHandler,
  CircuitBreakerEvents,
  CircuitBreakerHooks,
} from "./circuit_breaker_options.ts";
import { assertFunction, assertOneOf } from "../base/_validate.ts";

/** Every event name, for validation. */
export const EVENTS: readonly CircuitBreakerEvent[] = [
  "stateChange",
  "open",
  "halfOpen",
  "close",
  "success",
  "failure",
  "reject",
  "thresholdAdapt",
];

/**
 * Checks the option hooks and registers them; `undefined` when there is none
 * (the registry is then created by the first `on()`).
 */
export function eventsFromOptions(
  what: string,
  options: CircuitBreakerHooks & { advanced?: CircuitBreakerAdvancedOptions },
): BreakerEvents<CircuitBreakerEvents> | undefined {
  let events: BreakerEvents<CircuitBreakerEvents> | undefined;
  const add = <E extends CircuitBreakerEvent>(
    option: string,
    event: E,
    hook: CircuitBreakerEventHandler<E> | undefined,
  ): void => {
    if (hook === undefined) return;
    assertFunction(what, option, hook);
    (events ??= new BreakerEvents()).add(event, hook);
  };
  add("onStateChange", "stateChange", options.onStateChange);
  add("onOpen", "open", options.onOpen);
  add("onClose", "close", options.onClose);
  add("onHalfOpen", "halfOpen", options.onHalfOpen);
  add("advanced.onThresholdAdapt", "thresholdAdapt", options.advanced?.onThresholdAdapt);
  return events;
}

/** Checks and adds an `on()` / `once()` subscription, creating the registry on first use. */
export function subscribe<E extends CircuitBreakerEvent>(
  events: BreakerEvents<CircuitBreakerEvents> | undefined,
  event: E,
  handler: CircuitBreakerEventHandler<E>,
  once: boolean,
): BreakerEvents<CircuitBreakerEvents> {
  const what = "Cannot subscribe to circuit breaker";
  assertOneOf(what, "event", event, EVENTS);
  assertFunction(what, "handler", handler);
  events ??= new BreakerEvents();
  events.add(event, handler, once);
  return events;
}

// deno-lint-ignore no-explicit-any
type AnyHandler = (...args: any[]) => void;

/** Handlers per event name, each flagged `true` when added with `once`. */
export class BreakerEvents<M extends { [K in keyof M]: unknown[] }> {
  #handlers: Map<keyof M, Map<AnyHandler, boolean>> = new Map();

  /** Adds `handler` (again adding a handler already there changes nothing). */
  add<E extends keyof M>(event: E, handler: (...args: M[E]) => void, once = false): void {
    let set = this.#handlers.get(event);
    if (set === undefined) this.#handlers.set(event, set = new Map());
    if (!set.has(handler)) set.set(handler, once);
  }

  /** Removes `handler` from `event` (also a `once` one not yet called). */
  remove<E extends keyof M>(event: E, handler: (...args: M[E]) => void): void {
    this.#handlers.get(event)?.delete(handler);
  }

  /**
   * The handlers to call for one emission of `event`, in the order they were
   * added; `once` handlers are removed first. `undefined` when there is none.
   */
  take<E extends keyof M>(event: E): ((...args: M[E]) => void)[] | undefined {
    const set = this.#handlers.get(event);
    if (set === undefined || set.size === 0) return undefined;
    const handlers = [...set.keys()];
    for (const [handler, once] of set) if (once) set.delete(handler);
    return handlers;
  }

  /** Removes every handler and hook. */
  clear(): void {
    this.#handlers.clear();
  }
}
