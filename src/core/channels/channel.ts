/**
 * A Go-style channel with a buffer, backpressure and async iteration, closed
 * automatically when its scope aborts.
 *
 * @module
 */
import { ChannelFullError } from "../base/errors.ts";
import { defaultLogger, type Logger } from "../base/types.ts";
import { ABORT, type Abortable, ATTACH, DETACH, SET_OWNER } from "../base/_symbols.ts";
import { type Backpressure, type ChannelOptions, parseChannelOptions } from "./channel_options.ts";
import { SampleQueue } from "./_sample_queue.ts";
import { typeError } from "../base/_validate.ts";

interface Sender<T> {
  value: T;
  resolve(sent: boolean): void;
  reject(reason: unknown): void;
}

/** @internal Hooks `select()` uses to wait on several channels without consuming from the losers. */
export const POLL: unique symbol = Symbol("ggs.channel.poll");
/** @internal */
export const WAIT: unique symbol = Symbol("ggs.channel.wait");
/** @internal */
export const UNWAIT: unique symbol = Symbol("ggs.channel.unwait");
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
  /** `'sample'` mode's buffer (then `#buffer` stays empty). */
  readonly #sample: SampleQueue<T> | undefined;
  #buffer: T[] = [];
  #receivers: ((value: T | undefined) => void)[] = [];
  #senders: Sender<T>[] = [];
  #closed = false;
  #owner: Owner | undefined;

  /**
   * Creates a channel that belongs to no scope (`scope.channel()` makes one
   * that closes with its scope).
   *
   * @param options `{ buffer, backpressure, onDrop, sampleWindow }`, or the capacity as a number.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: ChannelOptions<T> | number = {}) {
    const settings = parseChannelOptions(options);
    this.#capacity = settings.capacity;
    this.#mode = settings.mode;
    this.#onDrop = settings.onDrop;
    if (settings.mode === "sample") {
      this.#sample = new SampleQueue(settings.window, settings.capacity, (v) => this.#drop(v));
    }
  }

  /** How many values wait in the buffer (in `'sample'` mode, those still inside the window). */
  get size(): number {
    return this.#sample !== undefined ? this.#sample.size : this.#buffer.length;
  }

  /** The buffer's capacity (0: rendezvous). */
  get capacity(): number {
    return this.#capacity;
  }

  /** go-go-scope's name for {@linkcode Channel.capacity}. */
  get cap(): number {
    return this.#capacity;
  }

  /** The backpressure mode (go-go-scope calls it the strategy). */
  get strategy(): Backpressure {
    return this.#mode;
  }

  /** True once closed (by `close()`, disposal or the scope aborting). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a value. Resolves `true` once it is buffered or handed to a
   * receiver, `false` if the channel is closed or a drop mode discarded it.
   * With `'block'` it waits while the buffer is full; `'sample'` never waits.
   *
   * @throws {TypeError} When `value` is `undefined` (thrown at once).
   */
  send(value: T): Promise<boolean> {
    if (value === undefined) {
      throw typeError(
        "Cannot send on channel: undefined is not a valid value (it marks the end of a channel)",
      );
    }
    if (this.#closed) return FALSE;
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver(value);
      return TRUE;
    }
    if (this.#sample !== undefined) {
      this.#sample.push(value);
      return TRUE;
    }
    if (this.#buffer.length < this.#capacity) {
      this.#buffer.push(value);
      return TRUE;
    }
    switch (this.#mode) {
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
      default:
        return new Promise((resolve, reject) => this.#senders.push({ value, resolve, reject }));
    }
  }

  /** Receives the next value; `undefined` once the channel is closed and drained. */
  receive(): Promise<T | undefined> {
    const value = this.#take();
    if (value !== undefined) return Promise.resolve(value);
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
    this.#buffer.length = 0;
    this.#sample?.clear();
    if (this.#closed && this.#senders.length === 0) return;
    this.#closed = true;
    this.#owner = undefined;
    for (const sender of this.#senders.splice(0)) sender.reject(reason);
    for (const receiver of this.#receivers.splice(0)) receiver(undefined);
  }

  /** @internal */
  [SET_OWNER](owner: Owner): void {
    this.#owner = owner;
    owner[ATTACH](this);
  }

  /** @internal For `select()`: a value if one is ready now, else `undefined` (never waits). */
  [POLL](): T | undefined {
    return this.#take();
  }

  /** @internal For `select()`: `receiver` gets the next value, or `undefined` on close/abort. */
  [WAIT](receiver: (value: T | undefined) => void): void {
    this.#receivers.push(receiver);
  }

  /** @internal For `select()`: withdraws a receiver `[WAIT]` added and that was not called. */
  [UNWAIT](receiver: (value: T | undefined) => void): void {
    const i = this.#receivers.indexOf(receiver);
    if (i !== -1) this.#receivers.splice(i, 1);
  }

  /** Takes the next ready value (buffer first, then a waiting sender) or `undefined`. */
  #take(): T | undefined {
    if (this.#sample !== undefined) return this.#sample.shift();
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift()!;
      const sender = this.#senders.shift();
      if (sender !== undefined) {
        this.#buffer.push(sender.value);
        sender.resolve(true);
      }
      return value;
    }
    const sender = this.#senders.shift();
    if (sender === undefined) return undefined;
    sender.resolve(true);
    return sender.value;
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

/** `scope.channel(options)`: a channel owned by `owner`, closed when it aborts. */
export function ownedChannel<T>(
  owner: Owner & { readonly isAborted: boolean; readonly abortReason: unknown },
  options?: ChannelOptions<T> | number,
): Channel<T> {
  const ch = new Channel<T>(options);
  if (owner.isAborted) ch[ABORT](owner.abortReason);
  else ch[SET_OWNER](owner);
  return ch;
}
