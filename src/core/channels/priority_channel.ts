/**
 * `scope.priorityChannel(options)` and {@linkcode PriorityChannel}: a
 * channel whose receivers get the highest-priority value first, as ordered by
 * a comparator (like `Array.prototype.sort`: negative means `a` first).
 *
 * @module
 */
import { reasonToError } from "../base/errors.ts";
import { ABORT, ATTACH, DETACH } from "../base/_symbols.ts";
import { assertFunction, assertInteger, assertKnownKeys, assertObject } from "../base/_validate.ts";
import { defaultLogger } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/** Orders two values: negative when `a` comes out first. */
export type PriorityComparator<T> = (a: T, b: T) => number;

/**
 * Options of `scope.priorityChannel()`.
 *
 * @example
 * ```ts
 * import type { PriorityChannelOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: PriorityChannelOptions<{ p: number }> = {
 *   capacity: 100,
 *   comparator: (a, b) => a.p - b.p,
 * };
 * console.log(options.capacity); // 100
 * ```
 */
export interface PriorityChannelOptions<T> {
  /** Values buffered before `send` waits; 0 hands each value straight to a receiver. @default 0 */
  capacity?: number;
  /** The order values come out in. */
  comparator: PriorityComparator<T>;
  /** Receives values `sendOrDrop` could not buffer. */
  onDrop?: (value: T) => void;
}

interface Sender<T> {
  value: T;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Receiver<T> {
  resolve: (value: T | undefined) => void;
  reject: (error: Error) => void;
}

const WHAT = "Cannot create priority channel";
const KNOWN = ["capacity", "comparator", "onDrop"] as const;

/**
 * A bounded channel ordered by priority. Senders wait while it is full;
 * receivers wait while it is empty. `close()` lets receivers drain what is
 * buffered, then they get `undefined`; waiting senders reject with "Channel
 * closed". When its scope aborts or is disposed, every waiting sender and
 * receiver rejects with the abort reason.
 *
 * @typeParam T The values it carries.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const jobs = s.priorityChannel<{ name: string; priority: number }>({
 *   capacity: 10,
 *   comparator: (a, b) => b.priority - a.priority, // highest first
 * });
 * await jobs.send({ name: "low", priority: 1 });
 * await jobs.send({ name: "urgent", priority: 9 });
 * jobs.close();
 * for await (const job of jobs) console.log(job.name); // urgent, then low
 * ```
 */
export class PriorityChannel<T> implements AsyncIterable<T>, AsyncDisposable {
  readonly #heap: T[] = [];
  readonly #compare: PriorityComparator<T>;
  readonly #capacity: number;
  readonly #onDrop: ((value: T) => void) | undefined;
  #senders: Sender<T>[] = [];
  #receivers: Receiver<T>[] = [];
  #closed = false;
  #aborted: Error | undefined;
  #owner: ScopeLike | undefined;

  /**
   * Creates the channel.
   *
   * @param options `comparator`, and optionally `capacity`, `onDrop`.
   * @param owner The scope whose abort ends it (set by `scope.priorityChannel()`).
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: PriorityChannelOptions<T>, owner?: ScopeLike) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { capacity, comparator, onDrop } = options;
    if (capacity !== undefined) assertInteger(WHAT, "capacity", capacity, 0);
    assertFunction(WHAT, "comparator", comparator);
    if (onDrop !== undefined) assertFunction(WHAT, "onDrop", onDrop);
    this.#capacity = capacity ?? 0;
    this.#compare = comparator;
    this.#onDrop = onDrop;
    if (owner === undefined) return;
    if (owner.isAborted) {
      this.#closed = true;
      this.#aborted = reasonToError(owner.abortReason);
    } else {
      this.#owner = owner;
      owner[ATTACH](this);
    }
  }

  /** Buffered values. */
  get size(): number {
    return this.#heap.length;
  }

  /** The capacity. */
  get cap(): number {
    return this.#capacity;
  }

  /** True when nothing is buffered. */
  get isEmpty(): boolean {
    return this.#heap.length === 0;
  }

  /** True when the buffer is at capacity. */
  get isFull(): boolean {
    return this.#heap.length >= this.#capacity;
  }

  /** True once closed (or its scope aborted). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a value, waiting while the channel is full.
   *
   * @throws {Error} "Cannot send on closed channel"; the abort reason once the scope aborted.
   */
  send(value: T): Promise<void> {
    if (this.#aborted !== undefined) return Promise.reject(this.#aborted);
    if (this.#closed) return Promise.reject(new Error("Cannot send on closed channel"));
    if (this.#offer(value)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#senders.push({ value, resolve, reject }));
  }

  /** Sends without waiting; `false` when full or closed. */
  trySend(value: T): boolean {
    return !this.#closed && this.#offer(value);
  }

  /** Sends without waiting; a value that does not fit (or a closed channel) goes to `onDrop`. */
  sendOrDrop(value: T): void {
    if (this.#closed || !this.#offer(value)) this.#drop(value);
  }

  /**
   * Receives the highest-priority value, waiting while empty.
   *
   * @returns The value, or `undefined` once closed and drained.
   * @throws The abort reason once the scope aborted.
   */
  receive(): Promise<T | undefined> {
    if (this.#heap.length > 0 || this.#senders.length > 0) return Promise.resolve(this.#take());
    if (this.#aborted !== undefined) return Promise.reject(this.#aborted);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) =>
      this.#receivers.push({ resolve, reject })
    );
  }

  /** Receives without waiting; `undefined` when nothing is ready. */
  tryReceive(): T | undefined {
    return this.#heap.length > 0 || this.#senders.length > 0 ? this.#take() : undefined;
  }

  /** The value `receive` would return next, left in place. */
  peek(): T | undefined {
    return this.#heap[0];
  }

  /** Closes: waiting senders reject, receivers drain the buffer then get `undefined`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner?.[DETACH](this);
    this.#owner = undefined;
    const senders = this.#senders;
    this.#senders = [];
    for (const s of senders) s.reject(new Error("Channel closed"));
    const receivers = this.#receivers;
    this.#receivers = [];
    for (const r of receivers) r.resolve(undefined);
  }

  /** Yields values in priority order until closed and drained. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const value = await this.receive();
      if (value === undefined) return;
      yield value;
    }
  }

  /** Closes the channel. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal The scope aborted: reject every waiter, drop the buffer. */
  [ABORT](reason: unknown): void {
    const error = this.#aborted = reasonToError(reason);
    this.#closed = true;
    this.#owner?.[DETACH](this);
    this.#owner = undefined;
    this.#heap.length = 0;
    const senders = this.#senders;
    const receivers = this.#receivers;
    this.#senders = [];
    this.#receivers = [];
    for (const s of senders) s.reject(error);
    for (const r of receivers) r.reject(error);
  }

  /** Hands `value` to a waiting receiver or buffers it; false when full. */
  #offer(value: T): boolean {
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.resolve(value);
      return true;
    }
    if (this.#heap.length >= this.#capacity) return false;
    this.#push(value);
    return true;
  }

  /** The next value (buffered, or from the best waiting sender when unbuffered). */
  #take(): T {
    if (this.#heap.length === 0) {
      // Unbuffered: the best of the waiting senders goes straight through.
      let best = 0;
      for (let i = 1; i < this.#senders.length; i++) {
        if (this.#compare(this.#senders[i]!.value, this.#senders[best]!.value) < 0) best = i;
      }
      const sender = this.#senders.splice(best, 1)[0]!;
      sender.resolve();
      return sender.value;
    }
    const value = this.#pop();
    while (this.#senders.length > 0 && this.#heap.length < this.#capacity) {
      const sender = this.#senders.shift()!;
      this.#push(sender.value);
      sender.resolve();
    }
    return value;
  }

  #push(value: T): void {
    const heap = this.#heap;
    let i = heap.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#compare(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): T {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && this.#compare(heap[l]!, heap[m]!) < 0) m = l;
      if (r < heap.length && this.#compare(heap[r]!, heap[m]!) < 0) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
    return top;
  }

  #drop(value: T): void {
    if (this.#onDrop === undefined) return;
    try {
      this.#onDrop(value);
    } catch (error) {
      (this.#owner?.logger ?? defaultLogger).error(
        { err: error },
        "priority channel onDrop handler threw",
      );
    }
  }
}

/** Creates a {@linkcode PriorityChannel} owned by `owner`. Used by `scope.priorityChannel()`. */
export function priorityChannel<T>(
  owner: ScopeLike | undefined,
  options: PriorityChannelOptions<T>,
): PriorityChannel<T> {
  return new PriorityChannel(options, owner);
}
