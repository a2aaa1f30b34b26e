/**
 * `scope.every(ms, fn)`: run a function now and then every `ms` until stopped
 * or the scope ends.
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { isAbortError } from "../base/errors.ts";
import type { Task } from "../kernel/task.ts";
import type { Logger, TaskFn } from "../base/types.ts";
import type { Timer } from "../base/_symbols.ts";
import { assertFunction, assertMs } from "../base/_validate.ts";

/** What `every` needs from its scope (a structural view of `Scope`). */
export interface EveryOwner {
  readonly name: string;
  readonly signal: AbortSignal;
  readonly isAborted: boolean;
  readonly logger: Logger;
  task<T>(fn: TaskFn<T>): Task<T>;
}

const WHAT = "Cannot run every";

function noop(): void {}

class Repeater {
  readonly #owner: EveryOwner;
  readonly #ms: number;
  readonly #fn: TaskFn<unknown>;
  #timer: Timer | undefined;
  #stopped = false;
  #watch: Disposable;

  constructor(owner: EveryOwner, ms: number, fn: TaskFn<unknown>) {
    this.#owner = owner;
    this.#ms = ms;
    this.#fn = fn;
    this.#watch = onAbort(owner.signal, () => this.stop());
    this.#run();
  }

  readonly stop = (): void => {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watch[Symbol.dispose]();
  };

  #run(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.#owner.task(this.#fn).then(([err]) => {
      // The next run is scheduled first: writing the log (a console's first
      // write takes milliseconds) then overlaps the wait instead of adding to it.
      if (!this.#stopped) this.#timer = setTimeout(() => this.#run(), this.#ms);
      const owner = this.#owner;
      if (err !== undefined && !(owner.isAborted && isAbortError(err))) {
        owner.logger.error(
          { err, scope: owner.name },
          "every(): a run failed; the next runs on time",
        );
      }
    });
  }
}

/**
 * `scope.every()` (internal: see `Scope.every`). Runs `fn` as a task of the
 * scope at once, then `ms` after each run ends, until the returned function is
 * called or the scope aborts. A failing run is logged through the scope's
 * logger and does not stop the next.
 */
export function every(owner: EveryOwner, ms: number, fn: TaskFn<unknown>): () => void {
  assertMs(WHAT, "intervalMs", ms);
  assertFunction(WHAT, "fn", fn);
  if (owner.isAborted) return noop;
  return new Repeater(owner, ms, fn).stop;
}
