// The buffer of a channel with `backpressure: 'sample'`: values with the time
// they were sent. Values older than the window leave through `drop` (the
// channel's onDrop) whenever the queue is touched, so no timer ever runs.

/** A time-windowed FIFO; a `cap` above 0 also bounds it, dropping the oldest. */
export class SampleQueue<T> {
  readonly #window: number;
  readonly #cap: number;
  readonly #drop: (value: T) => void;
  readonly #values: T[] = [];
  readonly #stamps: number[] = [];

  constructor(window: number, cap: number, drop: (value: T) => void) {
    this.#window = window;
    this.#cap = cap;
    this.#drop = drop;
  }

  /** Values still inside the window. */
  get size(): number {
    this.#expire(performance.now());
    return this.#values.length;
  }

  /** Keeps `value`, stamped now. */
  push(value: T): void {
    const now = performance.now();
    this.#expire(now);
    if (this.#cap > 0 && this.#values.length >= this.#cap) {
      this.#stamps.shift();
      this.#drop(this.#values.shift()!);
    }
    this.#values.push(value);
    this.#stamps.push(now);
  }

  /** The oldest value still inside the window, or `undefined`. */
  shift(): T | undefined {
    this.#expire(performance.now());
    this.#stamps.shift();
    return this.#values.shift();
  }

  /** Forgets every value (without `drop`: the channel's scope aborted). */
  clear(): void {
    this.#values.length = 0;
    this.#stamps.length = 0;
  }

  #expire(now: number): void {
    const cutoff = now - this.#window;
    while (this.#stamps.length > 0 && this.#stamps[0]! <= cutoff) {
      this.#stamps.shift();
      this.#drop(this.#values.shift()!);
    }
  }
}
