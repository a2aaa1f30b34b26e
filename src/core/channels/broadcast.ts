/**
 * A broadcast channel: every subscriber gets every message (a `Channel` hands
 * each value to one receiver). Closed automatically when its scope aborts.
 *
 * @module
 */
import { ABORT, type Abortable, ATTACH, DETACH, SET_OWNER } from "../base/_symbols.ts";

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };
const DONE_PROMISE: Promise<IteratorResult<never, undefined>> = Promise.resolve(DONE);
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

interface Owner {
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
}

/** One `subscribe()` call: its own queue and, while it waits, its pending `next()`. */
class Subscription<T> implements AsyncIterableIterator<T, undefined> {
  readonly #channel: BroadcastChannel<T>;
  readonly queue: T[] = [];
  waiter: ((result: IteratorResult<T, undefined>) => void) | undefined;
  ended = false;

  constructor(channel: BroadcastChannel<T>) {
    this.#channel = channel;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.queue.length > 0) return Promise.resolve({ done: false, value: this.queue.shift()! });
    if (this.ended) return DONE_PROMISE;
    if (this.waiter !== undefined) {
      return Promise.reject(
        new Error("Cannot call next() on a broadcast subscription while a next() is pending"),
      );
    }
    return new Promise((resolve) => this.waiter = resolve);
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#channel[UNSUBSCRIBE](this);
    return DONE_PROMISE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscription: queued messages are dropped, a pending `next()` gets `done`. */
  end(keepQueue: boolean): void {
    this.ended = true;
    if (!keepQueue) this.queue.length = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(DONE);
  }
}

const UNSUBSCRIBE: unique symbol = Symbol("ggs.broadcast.unsubscribe");

/**
 * A pub/sub channel: each message sent reaches every current subscriber, each
 * through its own queue, so a slow subscriber never holds the others back
 * (its queue grows instead). Create one with `scope.broadcast()` (it closes
 * when the scope aborts) or `new BroadcastChannel()`.
 *
 * @typeParam T The messages it carries.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const news = s.broadcast<string>();
 * const a = news.subscribe();
 * const b = news.subscribe();
 * await news.send("hello");
 * await news.send("world");
 * news.close();
 * const seen: string[] = [];
 * for await (const m of a) seen.push(`a:${m}`);
 * for await (const m of b) seen.push(`b:${m}`);
 * console.log(seen); // [ "a:hello", "a:world", "b:hello", "b:world" ]
 * ```
 */
export class BroadcastChannel<T> implements AsyncDisposable {
  #subscribers: Set<Subscription<T>> = new Set();
  #closed = false;
  #owner: Owner | undefined;

  /** How many subscriptions are listening (0 once closed). */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** True once closed (by `close()`, disposal or the scope aborting). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Subscribes: the returned iterator yields every message sent from now on,
   * and ends once the channel is closed and its queue drained. Leaving a
   * `for await` loop early unsubscribes.
   *
   * @throws {Error} When the channel is closed.
   */
  subscribe(): AsyncIterableIterator<T, undefined> {
    if (this.#closed) throw new Error("Cannot subscribe to closed broadcast channel");
    const sub = new Subscription(this);
    this.#subscribers.add(sub);
    return sub;
  }

  /**
   * Sends a message to every current subscriber. Never waits: a subscriber
   * that is not waiting queues it.
   *
   * @returns `true`, or `false` when the channel is closed.
   */
  send(value: T): Promise<boolean> {
    if (this.#closed) return FALSE;
    for (const sub of this.#subscribers) {
      const waiter = sub.waiter;
      if (waiter !== undefined) {
        sub.waiter = undefined;
        waiter({ done: false, value });
      } else {
        sub.queue.push(value);
      }
    }
    return TRUE;
  }

  /**
   * Closes the channel: later sends resolve `false`; each subscriber still
   * receives what it had queued, then ends. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner?.[DETACH](this);
    this.#owner = undefined;
    for (const sub of this.#subscribers) sub.end(true);
    this.#subscribers.clear();
  }

  /** Closes the channel. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal The owning scope aborted: close and drop every queued message. */
  [ABORT](): void {
    this.#closed = true;
    this.#owner = undefined;
    for (const sub of this.#subscribers) sub.end(false);
    this.#subscribers.clear();
  }

  /** @internal */
  [SET_OWNER](owner: Owner): void {
    this.#owner = owner;
    owner[ATTACH](this);
  }

  /** @internal A subscription left (`return()`). */
  [UNSUBSCRIBE](sub: Subscription<T>): void {
    this.#subscribers.delete(sub);
    sub.end(false);
  }
}

/**
 * Creates a broadcast channel owned by `owner`: closed at once if the owner
 * has already aborted, otherwise when it aborts.
 */
export function ownedBroadcast<T>(
  owner: Owner & { readonly isAborted: boolean },
): BroadcastChannel<T> {
  const bc = new BroadcastChannel<T>();
  if (owner.isAborted) bc[ABORT]();
  else bc[SET_OWNER](owner);
  return bc;
}
