/**
 * Go-style `select` over channels: wait until the first of several channels
 * has a value, run that channel's handler, and leave the other channels
 * untouched (nothing is taken from them).
 *
 * @module
 */
import { Channel, POLL, UNWAIT, WAIT } from "./channel.ts";
import { TimeoutError } from "../base/errors.ts";
import type { Result } from "../base/types.ts";
import { ABORT, type Abortable, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import { assertKnownKeys, assertMs, assertObject, fail } from "../base/_validate.ts";

/**
 * Options of `scope.select()`.
 *
 * @example
 * ```ts
 * import { scope, type SelectOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const ch = s.channel<number>(1);
 * await ch.send(1);
 * const options: SelectOptions = { timeout: 100 };
 * const [err, doubled] = await s.select(new Map([[ch, (n: number) => n * 2]]), options);
 * console.log(err, doubled); // undefined 2
 * ```
 */
export interface SelectOptions {
  /** Milliseconds to wait for a ready channel before resolving `[TimeoutError]`. */
  timeout?: number;
}

/** What `select` needs from the scope it runs in. */
export interface SelectOwner {
  readonly isAborted: boolean;
  readonly abortReason: unknown;
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
}

/** A handler of one `select` case: receives the channel's value. */
export type SelectHandler<T, R> = (value: T) => R | PromiseLike<R>;

const WHAT = "Cannot select";
const KNOWN = ["timeout"] as const satisfies readonly (keyof SelectOptions)[];

async function run<T, R>(handler: SelectHandler<T, R>, value: T): Promise<Result<Error, R>> {
  try {
    return [undefined, await handler(value)];
  } catch (error) {
    return [error as Error, undefined];
  }
}

function allClosed(): Error {
  return new Error("All channels are closed");
}

/**
 * Waits for the first channel of `cases` that has a value and runs its
 * handler. Channels already holding a value win in the map's order; the others
 * keep their values. A closed, drained channel is never ready; when every
 * channel is, the result is `[Error("All channels are closed")]`.
 *
 * @param owner The scope: its abort ends the wait with `[reason]`.
 * @param cases Each channel with the handler that receives its value.
 * @param options `{ timeout }`.
 * @returns `[undefined, handlerResult]`, or `[error]`: the handler's error,
 * a `TimeoutError`, the scope's abort reason, "All channels are closed", or
 * "select called with no cases" for an empty Map.
 * @throws {TypeError | RangeError} When `cases` or an option is invalid.
 */
export function select<T, R>(
  owner: SelectOwner,
  cases: Map<Channel<T>, SelectHandler<T, R>>,
  options?: SelectOptions,
): Promise<Result<Error, R>> {
  if (!(cases instanceof Map)) fail(WHAT, "cases", "a Map of channels to handlers", cases, false);
  // Nothing can ever be ready: the Result says so, in go-go-scope's words.
  if (cases.size === 0) {
    return Promise.resolve([new Error("select called with no cases"), undefined]);
  }
  for (const [ch, handler] of cases) {
    if (!(ch instanceof Channel)) fail(WHAT, "cases key", "a Channel", ch, false);
    if (typeof handler !== "function") fail(WHAT, "cases value", "a function", handler, false);
  }
  let timeout: number | undefined;
  if (options !== undefined) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    timeout = options.timeout;
    if (timeout !== undefined) assertMs(WHAT, "timeout", timeout);
  }
  if (owner.isAborted) return Promise.resolve([owner.abortReason as Error, undefined]);
  // Ready now: take from the first channel that has a value, touch no other.
  let open = 0;
  for (const [ch, handler] of cases) {
    const value = ch[POLL]();
    if (value !== undefined) return run(handler, value);
    if (!ch.isClosed) open++;
  }
  if (open === 0) return Promise.resolve([allClosed(), undefined]);
  return new Promise((resolve) => wait(owner, cases, open, timeout, resolve));
}

/** Registers one receiver per open channel, a timer and an abort hook; the first to fire wins. */
function wait<T, R>(
  owner: SelectOwner,
  cases: Map<Channel<T>, SelectHandler<T, R>>,
  open: number,
  timeout: number | undefined,
  resolve: (result: Result<Error, R> | Promise<Result<Error, R>>) => void,
): void {
  const receivers: [Channel<T>, (value: T | undefined) => void][] = [];
  let timer: Timer | undefined;
  let done = false;
  const abortable: Abortable = { [ABORT]: (reason) => finish([reason as Error, undefined]) };
  const finish = (result: Result<Error, R> | Promise<Result<Error, R>>): void => {
    if (done) return;
    done = true;
    for (const [ch, receiver] of receivers) ch[UNWAIT](receiver);
    if (timer !== undefined) clearTimeout(timer);
    owner[DETACH](abortable);
    resolve(result);
  };
  for (const [ch, handler] of cases) {
    if (ch.isClosed) continue;
    const receiver = (value: T | undefined): void => {
      if (value !== undefined) return finish(run(handler, value));
      // The channel closed (or its scope aborted): it will never be ready.
      if (owner.isAborted) finish([owner.abortReason as Error, undefined]);
      else if (--open === 0) finish([allClosed(), undefined]);
    };
    receivers.push([ch, receiver]);
    ch[WAIT](receiver);
  }
  owner[ATTACH](abortable);
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      finish([
        new TimeoutError(`select exceeded its timeout of ${timeout} ms`, timeout),
        undefined,
      ]);
    }, timeout);
  }
}
