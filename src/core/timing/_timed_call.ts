// The state debounce and throttle share: the wrapped function, one pending
// timer, the callers waiting for the next trailing call, and the release of
// all of them when the owning scope aborts.
import { reasonToError, toError } from "../base/errors.ts";
import { ABORT, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import type { Result } from "../base/types.ts";
import type { ScopeLike } from "../base/scope_like.ts";

type Resolve<T> = (result: Result<Error, T>) => void;

export class TimedCall<Args extends unknown[], T> {
  readonly #owner: ScopeLike | undefined;
  readonly #fn: (...args: Args) => T | PromiseLike<T>;
  readonly #onFire: () => void;
  #timer: Timer | undefined;
  #waiters: Resolve<T>[] | undefined;
  #args: Args | undefined;
  #dead: Error | undefined;

  constructor(
    owner: ScopeLike | undefined,
    fn: (...args: Args) => T | PromiseLike<T>,
    onFire: () => void,
  ) {
    this.#owner = owner;
    this.#fn = fn;
    this.#onFire = onFire;
    if (owner === undefined) return;
    if (owner.isAborted) this.#dead = reasonToError(owner.abortReason);
    else owner[ATTACH](this);
  }

  /** Set once the owner aborted: every later call resolves to it. */
  get dead(): Error | undefined {
    return this.#dead;
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Calls the function now. */
  invoke(args: Args): Promise<Result<Error, T>> {
    try {
      return Promise.resolve(this.#fn(...args)).then(ok<T>, failed);
    } catch (error) {
      return Promise.resolve(failed(error));
    }
  }

  /** Remembers `args` for the trailing call and returns the promise of its Result. */
  waitTrailing(args: Args): Promise<Result<Error, T>> {
    this.#args = args;
    return new Promise<Result<Error, T>>((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /** (Re)arms the one timer. */
  schedule(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onFire();
    }, ms);
  }

  /** Runs the trailing call, if anyone waits for one; false when nobody did. */
  fireTrailing(): boolean {
    const waiters = this.#waiters;
    if (waiters === undefined) return false;
    const args = this.#args!;
    this.#waiters = undefined;
    this.#args = undefined;
    this.invoke(args).then((result) => {
      for (const resolve of waiters) resolve(result);
    });
    return true;
  }

  /** @internal The owner aborted: clear the timer, answer every waiter with the reason. */
  [ABORT](reason: unknown): void {
    const error = this.#dead = reasonToError(reason);
    this.#owner?.[DETACH](this);
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const waiters = this.#waiters;
    this.#waiters = undefined;
    this.#args = undefined;
    if (waiters !== undefined) { for (const resolve of waiters) resolve([error, undefined]); }
  }
}

function ok<T>(value: T): Result<Error, T> {
  return [undefined, value];
}

function failed(error: unknown): Result<Error, never> {
  return [toError(error), undefined];
}
