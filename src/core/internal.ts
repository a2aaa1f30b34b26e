/**
 * The adapters' door: what only our adapters (`src/fastify/`, `src/redis/`) use of the core
 * beyond `mod.ts`. The plugin validates its options once (at registration, and per route in
 * onRoute) with the core's validators, then creates and ends request scopes through
 * `childScope()` and `disposeScope()`, which skip the public API's option parsing. Never
 * re-exported by `mod.ts`; nothing else outside `src/core/` imports a core file but these two.
 *
 * @module
 */
import {
  ABORT,
  type Abortable,
  ATTACH,
  CHILD,
  CHILDREN,
  DETACH,
  DISPOSE,
} from "./base/_symbols.ts";
import { Scope } from "./scope.ts";
import type { ChildSettings } from "./scope_options.ts";
import { INSTRUMENT, type TaskInstrument } from "./kernel/_instrument.ts";

export type { ChildSettings };
export type {
  InstrumentedOptions,
  InstrumentedScope,
  InstrumentedTask,
  TaskInstrument,
  TaskOutcome,
  TaskProbe,
} from "./kernel/_instrument.ts";
export {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertMsOrFalse,
  assertNonEmptyString,
  assertObject,
  assertString,
  describe,
  fail,
  optionError,
} from "./base/_validate.ts";
export { toBreaker } from "./resilience/_breaker_option.ts";
export { connectPersistence } from "./persistence/scope_persistence.ts";
export { adoptTrace } from "./observability/log_correlation.ts";

/** A child of `parent` built from already-validated `settings`. */
export function childScope(parent: Scope, settings: ChildSettings): Scope {
  return Scope[CHILD](parent, settings);
}

/** Disposes `s`; `undefined` when disposal finished synchronously (nothing to await). */
export function disposeScope(s: Scope): Promise<void> | undefined {
  return s[DISPOSE]();
}

/** Calls `onAbort(reason)` when `s` aborts. */
class AbortWatch implements Abortable {
  constructor(readonly onAbort: (reason: unknown) => void) {}
  [ABORT](reason: unknown): void {
    this.onAbort(reason);
  }
}

/**
 * Calls `onAbort` (once) when `s` aborts, without creating the scope's signal or adding a
 * listener to it (both cost microseconds on Node 20). Returns the function that stops watching.
 * `s` must not be aborted yet.
 */
export function watchAbort(s: Scope, onAbort: (reason: unknown) => void): () => void {
  const watch = new AbortWatch(onAbort);
  s[ATTACH](watch);
  return () => s[DETACH](watch);
}

/**
 * Sets the instrumentation hook of `s`: every task started on `s` from now on, and on the child
 * scopes created from now on, calls it (`kernel/_instrument.ts`). `undefined` removes it.
 */
export function instrumentScope(s: Scope, instrument: TaskInstrument | undefined): void {
  s[INSTRUMENT] = instrument;
}

/** The instrumentation hook of `s`, if any. */
export function instrumentOf(s: Scope): TaskInstrument | undefined {
  return s[INSTRUMENT];
}

/** The live child scopes of `s`, in creation order. */
export function childrenOf(s: Scope): Scope[] {
  return s[CHILDREN]();
}
