/**
 * A Go-style channel with a buffer, backpressure and async iteration, closed
 * automatically when its scope aborts.
 *
 * @module
 */
import { ChannelFullError } from "./errors.ts";
import { defaultLogger, type Logger } from "./types.ts";
import { ABORT, type Abortable, ATTACH, DETACH, SET_OWNER } from "./_internal.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertObject,
  assertOneOf,
  optionError,
} from "./_validate.ts";

/** What `send()` does when the buffer is full. */
export type Backpressure = "block" | "drop-oldest" | "drop-latest" | "error";

/**
 * Options of a {@linkcode Channel}.
 *
 * @example
 * ```ts
 * import { type ChannelOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ChannelOptions<number> = { buffer: 10, backpressure: "drop-oldest" };
 * await using s = scope();
 * const ch = s.channel(options);
 * console.log(ch.capacity); // 10
 * ```
 */
export interface ChannelOptions<T> {
  /** How many values wait in the buffer; 0 means every send waits for a receiver. @default 0 */
  buffer?: number;
  /** Alias of `buffer`. */
  capacity?: number;
  /**
   * When the buffer is full: `'block'` waits for room, `'drop-oldest'` drops
   * the oldest buffered value, `'drop-latest'` drops the value being sent,
   * `'error'` rejects with `ChannelFullError`. @default 'block'
   */
  backpressure?: Backpressure;
  /** Called with each value a drop mode discards. */
  onDrop?: (value: T) => void;
}

interface Sender<T> {
  value: T;
  resolve(sent: boolean): void;
  reject(reason: unknown): void;
}

const MODES: readonly Backpressure[] = ["block", "drop-oldest", "drop-latest", "error"];
const KNOWN = ["buffer", "capacity", "backpressure", "onDrop"] as const;
const WHAT = "Cannot create channel";
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);
const DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve({
  done: true,
  value: undefined,
});

interface Owner {
  readonly logger: Logger;
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
}

/**
 * A channel passes values from producers to consumers in order. Create one
 * with `scope.channel()` (it closes when the scope aborts) or `new Channel()`.
 *
 * @typeParam T The values it carries (`undefined` is not allowed: it marks the end).
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const ch = s.channel<number>({ buffer: 2 });
 * s.task(async () => {
 *   for (let i = 1; i <= 3; i++) await ch.send(i);
 *   ch.close();
 * });
 * const seen: number[] = [];
 * for await (const n of ch) seen.push(n);
 * console.log(seen); // [ 1, 2, 3 ]
 * ```
 */
export class Channel<T> implements AsyncIterable<T>, AsyncDisposable {
  readonly #capacity: number;
  readonly #mode: Backpressure;
  readonly #onDrop: ((value: T) => void) | undefined;
  #buffer: T[] = [];
  #receivers: ((value: T | undefined) => void)[] = [];
  #senders: Sender<T>[] = [];
  #closed = false;
  #owner: Owner | undefined;

  /**
   * Creates a channel that belongs to no scope (`scope.channel()` makes one
   * that closes with its scope).
   *
   * @param options `{ buffer, backpressure, onDrop }`, or the capacity as a number.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: ChannelOptions<T> | number = {}) {
    if (typeof options === "number") options = { buffer: options };
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { buffer, capacity, backpressure = "block", onDrop } = options;
    if (buffer !== undefined && capacity !== undefined && buffer !== capacity) {
      throw optionError(
        `${WHAT}: give "buffer" or its alias "capacity", not both (received ${buffer} and ${capacity})`,
        false,
      );
    }
    const size = buffer !== undefined ? buffer : capacity !== undefined ? capacity : 0;
    assertInteger(WHAT, buffer !== undefined ? "buffer" : "capacity", size, 0);
    assertOneOf(WHAT, "backpressure", backpressure, MODES);
    if (onDrop !== undefined) assertFunction(WHAT, "onDrop", onDrop);
    this.#capacity = size;
    this.#mode = backpressure;
    this.#onDrop = onDrop;
  }

  /** How many values wait in the buffer. */
  get size(): number {
    return this.#buffer.length;
  }

  /** The buffer's capacity (0: rendezvous). */
  get capacity(): number {
    return this.#capacity;
  }

  /** True once closed (by `close()`, disposal or the scope aborting). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a value. Resolves `true` once it is buffered or handed to a
   * receiver, `false` if the channel is closed or a drop mode discarded it.
   * With `'block'` it waits while the buffer is full.
   *
   * @throws {TypeError} When `value` is `undefined` (thrown at once).
   */
  send(value: T): Promise<boolean> {
    if (value === undefined) {
      throw new TypeError(
        "Cannot send on channel: undefined is not a valid value (it marks the end of a channel)",
      );
    }
    if (this.#closed) return FALSE;
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver(value);
      return TRUE;
    }
    if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(value);
      return TRUE;
    }
    switch (this.#mode) {
      case "block":
        return new Promise((resolve, reject) => this.#senders.push({ value, resolve, reject }));
      case "drop-oldest":
        if (this.#capacity > 0) {
          this.#drop(this.#buffer.shift()!);
          this.#buffer.push(value);
          return TRUE;
        }
        this.#drop(value);
        return FALSE;
      case "drop-latest":
        this.#drop(value);
        return FALSE;
      case "error":
        return Promise.reject(new ChannelFullError(this.#capacity));
    }
  }

  /** Receives the next value; `undefined` once the channel is closed and drained. */
  receive(): Promise<T | undefined> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift()!;
      const sender = this.#senders.shift();
      if (sender !== undefined) {
        this.#buffer.push(sender.value);
        sender.resolve(true);
      }
      return Promise.resolve(value);
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.resolve(true);
      return Promise.resolve(sender.value);
    }
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#receivers.push(resolve));
  }

  /**
   * Closes the channel. Buffered values stay receivable; waiting senders
   * resolve `false`; waiting receivers get `undefined`. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner?.[DETACH](this);
    this.#owner = undefined;
    for (const sender of this.#senders.splice(0)) sender.resolve(false);
    for (const receiver of this.#receivers.splice(0)) receiver(undefined);
  }

  /**
   * Iterates until the channel is closed and drained, or its scope aborts.
   * Leaving the loop early (`break`, `return`, a throw) closes the channel,
   * as cancelling a `ReadableStream` does: the consumer is gone, so waiting
   * senders resolve `false` instead of blocking forever.
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: (): Promise<IteratorResult<T, undefined>> =>
        this.receive().then((value): IteratorResult<T, undefined> =>
          value === undefined ? { done: true, value: undefined } : { done: false, value }
        ),
      return: (): Promise<IteratorResult<T, undefined>> => {
        this.close();
        return DONE;
      },
    };
  }

  /** Closes the channel. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** @internal The owning scope aborted: close, drop the buffer, reject waiting senders. */
  [ABORT](reason: unknown): void {
    if (this.#closed && this.#senders.length === 0) {
      this.#buffer.length = 0;
      return;
    }
    this.#closed = true;
    this.#owner = undefined;
    this.#buffer.length = 0;
    for (const sender of this.#senders.splice(0)) sender.reject(reason);
    for (const receiver of this.#receivers.splice(0)) receiver(undefined);
  }

  /** @internal */
  [SET_OWNER](owner: Owner): void {
    this.#owner = owner;
    owner[ATTACH](this);
  }

  #drop(value: T): void {
    if (this.#onDrop === undefined) return;
    try {
      this.#onDrop(value);
    } catch (error) {
      (this.#owner?.logger ?? defaultLogger).error({ err: error }, "channel onDrop handler threw");
    }
  }
}
