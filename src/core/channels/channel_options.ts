/**
 * A channel's options: their types and their validation, kept out of
 * channel.ts so the class reads as the queue it is. Validation runs once per
 * channel, never per send.
 *
 * @module
 */
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertOneOf,
  typeError,
} from "../base/_validate.ts";

/**
 * What `send()` does when the buffer is full; `'sample'` never blocks and
 * keeps only the values sent in the last `sampleWindow` milliseconds.
 */
export type Backpressure = "block" | "drop-oldest" | "drop-latest" | "error" | "sample";

/** go-go-scope's name for {@linkcode Backpressure}. */
export type BackpressureStrategy = Backpressure;

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
   * `'error'` rejects with `ChannelFullError`, `'sample'` keeps only the
   * values sent in the last `sampleWindow` ms (older ones expire to `onDrop`;
   * a capacity above 0 also caps how many it keeps, dropping the oldest).
   * @default 'block'
   */
  backpressure?: Backpressure;
  /** Called with each value a drop mode discards or a sample window expires. */
  onDrop?: (value: T) => void;
  /**
   * Milliseconds a value stays receivable with `backpressure: 'sample'`
   * (refused with any other mode). @default 1000
   */
  sampleWindow?: number;
}

/** What a channel keeps of its options once they are checked. */
export interface ChannelSettings<T> {
  readonly capacity: number;
  readonly mode: Backpressure;
  readonly onDrop: ((value: T) => void) | undefined;
  /** Milliseconds a value stays receivable in `'sample'` mode; 0 in every other mode. */
  readonly window: number;
}

const MODES: readonly Backpressure[] = ["block", "drop-oldest", "drop-latest", "error", "sample"];
const KNOWN = [
  "buffer",
  "capacity",
  "backpressure",
  "onDrop",
  "sampleWindow",
] as const satisfies readonly (keyof ChannelOptions<unknown>)[];
const WHAT = "Cannot create channel";

/** The default `sampleWindow`, as go-go-scope has it. */
export const DEFAULT_SAMPLE_WINDOW = 1000;

/**
 * Checks a channel's options (or its capacity as a number).
 *
 * @throws {TypeError | RangeError} When an option is invalid.
 */
export function parseChannelOptions<T>(options: ChannelOptions<T> | number): ChannelSettings<T> {
  if (typeof options === "number") options = { buffer: options };
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
  const { buffer, capacity, backpressure = "block", onDrop, sampleWindow } = options;
  if (buffer !== undefined && capacity !== undefined && buffer !== capacity) {
    throw typeError(
      `${WHAT}: give "buffer" or its alias "capacity", not both (received ${buffer} and ${capacity})`,
    );
  }
  const size = buffer !== undefined ? buffer : capacity !== undefined ? capacity : 0;
  assertInteger(WHAT, buffer !== undefined ? "buffer" : "capacity", size, 0);
  assertOneOf(WHAT, "backpressure", backpressure, MODES);
  if (onDrop !== undefined) assertFunction(WHAT, "onDrop", onDrop);
  let window = 0;
  if (backpressure === "sample") {
    window = sampleWindow ?? DEFAULT_SAMPLE_WINDOW;
    assertMs(WHAT, "sampleWindow", window);
  } else if (sampleWindow !== undefined) {
    throw typeError(
      `${WHAT}: "sampleWindow" only applies with backpressure 'sample', received backpressure '${backpressure}'`,
    );
  }
  return { capacity: size, mode: backpressure, onDrop, window };
}
