// Symbol-keyed hooks the core's classes use to talk to each other without
// public methods or per-call closures. Never re-exported.
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";
import type { Logger } from "./types.ts";

/** Something a scope notifies, synchronously, when it aborts. */
export interface Abortable {
  [ABORT](reason: unknown): void;
}

/** What a task needs from the scope that owns it. */
export interface TaskOwner extends ExtrasNode {
  readonly context: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly isAborted: boolean;
  readonly abortReason: unknown;
  readonly circuitBreaker: CircuitBreaker | undefined;
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
  /** True when a concurrency slot was taken; otherwise the task is queued and started later. */
  [ACQUIRE_SLOT](task: Startable): boolean;
  [RELEASE_SLOT](): void;
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

/**
 * What the Fastify plugin passes to create a request scope. Validated by the
 * caller (at registration and in onRoute), so the hot path builds no options
 * object and runs no validator.
 */
export interface ChildSettings {
  readonly name: string;
  readonly logger: Logger;
  readonly context: Readonly<Record<string, unknown>>;
  /** Milliseconds; `undefined` for no deadline. */
  readonly timeout: number | undefined;
  /** `undefined` for no limit. */
  readonly concurrency: number | undefined;
  /** `undefined` inherits the parent's breaker; `false` means none. */
  readonly circuitBreaker: CircuitBreaker | false | undefined;
}

export const SET_OWNER: unique symbol = Symbol("ggs.setOwner");

// ---- parity 2 (primitives) ----
/** The live child scopes of a scope, in creation order (for `debugTree`). */
export const CHILDREN: unique symbol = Symbol("ggs.children");
// ---- parity 1: context and services (scope-core) ----

/**
 * A scope's state for context, services, dedupe and memo: one object in one
 * field, created on the first call that needs it (a scope that uses none of
 * these never allocates it).
 */
export interface ScopeExtras {
  /** Keys set or removed with setContext/removeContext (REMOVED marks a removal). */
  context?: Map<string, unknown>;
  /** The flattened context tasks see, valid while `contextVersion` is current. */
  contextView?: Readonly<Record<string, unknown>>;
  contextVersion?: number;
  /** Services provided or overridden in this scope. */
  services?: Map<string | symbol, unknown>;
  /** The flattened services tasks see, valid while `servicesVersion` is current. */
  servicesView?: Readonly<Record<string | symbol, unknown>>;
  servicesVersion?: number;
  /** In-flight tasks by dedupe key. */
  dedupe?: Map<string | symbol, PromiseLike<unknown> & { readonly isSettled: boolean }>;
  /** Successful Results by memo key. */
  memo?: import("../resilience/memo.ts").MemoStore;
}

export const EXTRAS: unique symbol = Symbol("ggs.extras");
export const INIT_EXTRAS: unique symbol = Symbol("ggs.initExtras");
export const BASE_CONTEXT: unique symbol = Symbol("ggs.baseContext");

/** A scope as context.ts, services.ts and memo.ts see it. */
export interface ExtrasNode {
  readonly name: string;
  readonly parent: ExtrasNode | undefined;
  readonly isDisposed: boolean;
  /** The context given at creation (merged over the parent's at that time). */
  readonly [BASE_CONTEXT]: Readonly<Record<string, unknown>>;
  readonly [EXTRAS]: ScopeExtras | undefined;
  [INIT_EXTRAS](): ScopeExtras;
  onDispose(fn: () => unknown): void;
}
