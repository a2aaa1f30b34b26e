/**
 * `createMockChannel()`: a channel double whose received values the test sets
 * and whose sent values it reads.
 *
 * @module
 */

/**
 * A mock channel (go-go-scope's interface). `channel` is what the code under
 * test gets: `receive()` hands out the values set with `setReceiveValues` /
 * `mockReceive`, then `undefined`; `send()` records values.
 *
 * @example
 * ```ts
 * import { createMockChannel, type MockChannel } from "@go-go-scope/adapter-fastify/testing";
 *
 * const mock: MockChannel<number> = createMockChannel<number>();
 * await mock.channel.send(1);
 * console.log(mock.getSentValues(), mock.isClosed); // [ 1 ] false
 * ```
 */
export interface MockChannel<T> {
  /** The channel double. */
  channel: {
    /** Records `value`; resolves to false (recording nothing) once closed. */
    send: (value: T) => Promise<boolean>;
    /** The next value to receive, or `undefined` when none is left or it is closed. */
    receive: () => Promise<T | undefined>;
    /** Closes the channel. */
    close: () => void;
    /** Iterates over the values left to receive. */
    [Symbol.asyncIterator]: () => AsyncIterator<T>;
  };
  /** The values to receive (the array set last, including those already received). */
  readonly mockReceiveValues: T[];
  /** The values sent so far. */
  readonly sentValues: T[];
  /** Whether the channel is closed. */
  readonly isClosed: boolean;
  /** Replaces the values to receive (from the first). */
  setReceiveValues: (values: T[]) => void;
  /** Adds a value to receive. */
  mockReceive: (value: T) => void;
  /** A copy of the values sent so far. */
  getSentValues: () => T[];
  /** Forgets the values sent so far. */
  clearSentValues: () => void;
  /** Closes the channel. */
  close: () => void;
  /** Back to the start: open, nothing sent, nothing to receive. */
  reset: () => void;
}

/**
 * Creates a {@linkcode MockChannel}. As go-go-scope's, except that
 * `mockReceiveValues` is always the array being received from (go-go-scope's
 * keeps pointing at the first one after `setReceiveValues`).
 *
 * @typeParam T The values' type.
 * @returns The mock channel.
 *
 * @example
 * ```ts
 * import { createMockChannel } from "@go-go-scope/adapter-fastify/testing";
 *
 * const mock = createMockChannel<number>();
 * mock.setReceiveValues([1, 2, 3]);
 * const received: number[] = [];
 * for await (const n of mock.channel) received.push(n);
 * console.log(received, await mock.channel.receive()); // [ 1, 2, 3 ] undefined
 * ```
 */
export function createMockChannel<T>(): MockChannel<T> {
  const sent: T[] = [];
  let toReceive: T[] = [];
  let index = 0;
  let closed = false;
  const take = (): IteratorResult<T> =>
    closed || index >= toReceive.length
      ? { done: true, value: undefined }
      : { done: false, value: toReceive[index++] as T };
  return {
    channel: {
      send: (value: T) => {
        if (closed) return Promise.resolve(false);
        sent.push(value);
        return Promise.resolve(true);
      },
      receive: () => {
        const next = take();
        return Promise.resolve(next.done ? undefined : next.value);
      },
      close: () => {
        closed = true;
      },
      [Symbol.asyncIterator]: (): AsyncIterator<T> => ({
        next: () => Promise.resolve(take()),
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    },
    get mockReceiveValues(): T[] {
      return toReceive;
    },
    get sentValues(): T[] {
      return sent;
    },
    get isClosed(): boolean {
      return closed;
    },
    setReceiveValues: (values: T[]) => {
      toReceive = values;
      index = 0;
    },
    mockReceive: (value: T) => {
      toReceive.push(value);
    },
    getSentValues: () => [...sent],
    clearSentValues: () => {
      sent.length = 0;
    },
    close: () => {
      closed = true;
    },
    reset: () => {
      sent.length = 0;
      toReceive = [];
      index = 0;
      closed = false;
    },
  };
}
