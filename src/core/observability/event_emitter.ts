/**
 * `scope.eventEmitter()` / {@linkcode createEventEmitter}: a typed event
 * emitter whose listeners are all removed when its scope is disposed.
 *
 * @module
 */
import { assertFunction } from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/** A handler signature of an {@linkcode EventMap}. */
// deno-lint-ignore no-explicit-any
export type EventHandler = (...args: any[]) => unknown;

/** An event map: event name → handler signature. */
export type EventMap = Record<string, EventHandler>;

/**
 * A typed event emitter owned by a scope. A handler that throws (or whose
 * promise rejects, with `emitAsync`) is logged on the scope's logger and not
 * counted; the other handlers still run.
 *
 * @typeParam Events Event names and their handler signatures.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const events = s.eventEmitter<{ saved: (id: number) => void }>();
 * const off = events.on("saved", (id) => console.log("saved", id));
 * console.log(events.emit("saved", 7)); // saved 7, then 1 (handlers called)
 * off();
 * console.log(events.emit("saved", 8)); // 0
 * ```
 */
export class ScopedEventEmitter<Events extends EventMap = EventMap> {
  readonly #scope: ScopeLike;
  readonly #listeners = new Map<keyof Events, Set<EventHandler>>();
  #disposed = false;

  /** @internal Use `scope.eventEmitter()` or {@linkcode createEventEmitter}. */
  constructor(scope: ScopeLike) {
    this.#scope = scope;
    if (scope.isDisposed) this.#disposed = true;
    else scope.onDispose(() => this.#dispose());
  }

  /**
   * Adds a handler.
   *
   * @returns A function that removes it.
   * @throws {Error} When the scope was disposed.
   */
  on<K extends keyof Events>(event: K, handler: Events[K]): () => void {
    if (this.#disposed) throw new Error("Cannot subscribe to disposed EventEmitter");
    assertFunction("Cannot subscribe to event", "handler", handler);
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, set = new Set());
    set.add(handler);
    return () => this.off(event, handler);
  }

  /** Adds a handler that runs once. */
  once<K extends keyof Events>(event: K, handler: Events[K]): () => void {
    const wrapper = ((...args: Parameters<Events[K]>) => {
      this.off(event, wrapper);
      return handler(...args);
    }) as Events[K];
    return this.on(event, wrapper);
  }

  /** Removes a handler. */
  off<K extends keyof Events>(event: K, handler: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    set.delete(handler);
    if (set.size === 0) this.#listeners.delete(event);
  }

  /**
   * Calls the event's handlers in order with `args`.
   *
   * @returns How many handlers ran without throwing (0 once disposed).
   */
  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): number {
    const set = this.#listeners.get(event);
    if (this.#disposed || set === undefined) return 0;
    let count = 0;
    for (const handler of [...set]) {
      try {
        handler(...args);
        count++;
      } catch (error) {
        this.#report(event, error);
      }
    }
    return count;
  }

  /**
   * Like {@linkcode ScopedEventEmitter.emit}, and waits for handlers that
   * return promises.
   *
   * @returns How many handlers completed without failing.
   */
  async emitAsync<K extends keyof Events>(
    event: K,
    ...args: Parameters<Events[K]>
  ): Promise<number> {
    const set = this.#listeners.get(event);
    if (this.#disposed || set === undefined) return 0;
    const runs = [...set].map(async (handler) => {
      try {
        await handler(...args);
        return 1;
      } catch (error) {
        this.#report(event, error);
        return 0;
      }
    });
    let count = 0;
    for (const n of await Promise.all(runs)) count += n;
    return count;
  }

  /** How many handlers the event has. */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** True when the event has a handler. */
  hasListeners<K extends keyof Events>(event: K): boolean {
    return this.listenerCount(event) > 0;
  }

  /** Events that have handlers. */
  eventNames(): (keyof Events)[] {
    return [...this.#listeners.keys()];
  }

  /** Removes the event's handlers, or every handler. */
  removeAllListeners<K extends keyof Events>(event?: K): void {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
  }

  #dispose(): void {
    this.#disposed = true;
    this.#listeners.clear();
  }

  #report(event: keyof Events, error: unknown): void {
    this.#scope.logger.error(
      { err: error, event: String(event), scope: this.#scope.name },
      "event handler threw",
    );
  }
}

/**
 * Creates a {@linkcode ScopedEventEmitter} owned by `scope`.
 *
 * @example
 * ```ts
 * import { createEventEmitter, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const s = scope();
 * const events = createEventEmitter<{ tick: () => void }>(s);
 * events.on("tick", () => {});
 * await s[Symbol.asyncDispose]();
 * console.log(events.listenerCount("tick")); // 0
 * ```
 */
export function createEventEmitter<Events extends EventMap>(
  scope: ScopeLike,
): ScopedEventEmitter<Events> {
  return new ScopedEventEmitter<Events>(scope);
}
