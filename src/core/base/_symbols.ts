// Symbol-keyed hooks the core's classes use to talk to each other without
// public methods or per-call closures. Never re-exported.

/** Something a scope notifies, synchronously, when it aborts. */
export interface Abortable {
  [ABORT](reason: unknown): void;
}

/** A task waiting for a concurrency slot. */
export interface Startable {
  readonly isSettled: boolean;
  /** Higher starts first; equal priorities start in arrival order. */
  readonly [PRIORITY]: number;
  [START](): void;
}

export const ABORT: unique symbol = Symbol("ggs.abort");
export const ATTACH: unique symbol = Symbol("ggs.attach");
export const DETACH: unique symbol = Symbol("ggs.detach");
export const ACQUIRE_SLOT: unique symbol = Symbol("ggs.acquireSlot");
export const RELEASE_SLOT: unique symbol = Symbol("ggs.releaseSlot");
export const START: unique symbol = Symbol("ggs.start");
export const PRIORITY: unique symbol = Symbol("ggs.priority");

/** A timer handle in both runtimes. */
export type Timer = ReturnType<typeof setTimeout>;

export const CHILD: unique symbol = Symbol("ggs.child");
export const DISPOSE: unique symbol = Symbol("ggs.dispose");

export const SET_OWNER: unique symbol = Symbol("ggs.setOwner");

// ---- parity 2 (primitives) ----
/** The live child scopes of a scope, in creation order (for `debugTree`). */
export const CHILDREN: unique symbol = Symbol("ggs.children");
// ---- parity 1: context and services (scope-core) ----

export const EXTRAS: unique symbol = Symbol("ggs.extras");
export const INIT_EXTRAS: unique symbol = Symbol("ggs.initExtras");
export const BASE_CONTEXT: unique symbol = Symbol("ggs.baseContext");
/** A scope's `hooks.onDispose`, when set: told after each service disposer ran (an own property). */
export const SERVICE_DISPOSED: unique symbol = Symbol("ggs.serviceDisposed");
