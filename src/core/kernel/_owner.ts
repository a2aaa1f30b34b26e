// What the kernel's files need from the scope that owns them: a task's view
// (TaskOwner) and the per-scope state of context, services, dedupe and memo
// (ExtrasNode and its ScopeExtras). The Scope class implements both.
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";
import type { MemoStore } from "../resilience/memo.ts";
import type { Logger } from "../base/types.ts";
import type {
  Abortable,
  ACQUIRE_SLOT,
  ATTACH,
  BASE_CONTEXT,
  DETACH,
  EXTRAS,
  INIT_EXTRAS,
  RELEASE_SLOT,
  SERVICE_DISPOSED,
  Startable,
} from "../base/_symbols.ts";
import type { INSTRUMENT, TaskInstrument } from "./_instrument.ts";

/** What a task needs from the scope that owns it. */
export interface TaskOwner extends ExtrasNode {
  readonly context: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly isAborted: boolean;
  readonly abortReason: unknown;
  readonly circuitBreaker: CircuitBreaker | undefined;
  /** The scope's instrumentation hook (kernel/_instrument.ts), inherited from its parent. */
  readonly [INSTRUMENT]: TaskInstrument | undefined;
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
  /** True when a concurrency slot was taken; otherwise the task is queued and started later. */
  [ACQUIRE_SLOT](task: Startable): boolean;
  [RELEASE_SLOT](): void;
}

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
  memo?: MemoStore;
  /** Service disposers registered so far (their 1-based indexes for `hooks.onDispose`). */
  disposers?: number;
}

/** A scope as context.ts, services.ts and memo.ts see it. */
export interface ExtrasNode {
  readonly name: string;
  readonly parent: ExtrasNode | undefined;
  readonly isDisposed: boolean;
  /** The context given at creation (merged over the parent's at that time). */
  readonly [BASE_CONTEXT]: Readonly<Record<string, unknown>>;
  readonly [EXTRAS]: ScopeExtras | undefined;
  [INIT_EXTRAS](): ScopeExtras;
  /** Set (as an own property) by the `hooks.onDispose` option. */
  readonly [SERVICE_DISPOSED]?: (index: number, error: unknown) => void;
  onDispose(fn: () => unknown): void;
}
