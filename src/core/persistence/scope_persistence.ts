/**
 * The scope option `persistence`: which providers a scope and its children
 * use for keyed locks, breaker state, idempotency, caches and checkpoints.
 *
 * Kept out of `Scope`: the resolved providers live in a WeakMap keyed by the
 * scope that set them, and a lookup walks up the parents. A scope that never
 * sets the option costs nothing; a lookup happens only when a feature that
 * needs a provider is used.
 *
 * @module
 */
import type {
  CacheProvider,
  CheckpointProvider,
  CircuitBreakerStateProvider,
  IdempotencyProvider,
  LockProvider,
  PersistenceAdapter,
  PersistenceProviders,
} from "./persistence.ts";
import { describe, typeError } from "../base/_validate.ts";

/**
 * What the scope option `persistence` accepts: an adapter, an object of
 * providers, or one provider object (used for every feature it implements).
 */
export type PersistenceOption =
  | PersistenceAdapter
  | PersistenceProviders
  | LockProvider
  | CircuitBreakerStateProvider
  | CacheProvider
  | CheckpointProvider;

/** What the persistence lookup needs from a scope (its parent chain). */
export interface PersistenceNode {
  /** The parent scope, whose providers this one inherits. */
  readonly parent: PersistenceNode | undefined;
}

const byScope = new WeakMap<PersistenceNode, PersistenceProviders>();
const SLOTS = ["lock", "circuitBreaker", "idempotency", "cache", "checkpoint"] as const;
type Slot = typeof SLOTS[number];

const METHODS: Readonly<Record<Slot, readonly string[]>> = {
  lock: ["acquire", "extend", "forceRelease"],
  circuitBreaker: ["getState", "setState", "recordFailure", "recordSuccess"],
  idempotency: ["get", "set", "delete"],
  cache: ["get", "set", "delete", "has", "clear", "keys"],
  checkpoint: ["save", "loadLatest", "load", "list", "cleanup", "deleteAll"],
};

function implementsSlot(value: unknown, slot: Slot): boolean {
  if (typeof value !== "object" || value === null) return false;
  for (const m of METHODS[slot]) {
    if (typeof (value as Record<string, unknown>)[m] !== "function") return false;
  }
  return true;
}

/**
 * Turns the option's value into one provider per feature: each is taken from
 * the property of that name, or (for every feature but idempotency) from the
 * value itself when it has that provider's methods.
 *
 * @throws {TypeError} When the value is not an object, a property is not a
 * provider, or it provides nothing.
 */
export function resolvePersistence(
  value: PersistenceOption,
): PersistenceProviders {
  const what = "Cannot create scope";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(
      `${what}: "persistence" must be an adapter or an object of providers { lock, circuitBreaker, idempotency, cache, checkpoint }, received ${
        describe(value)
      }`,
    );
  }
  const out: PersistenceProviders = {};
  let found = false;
  for (const slot of SLOTS) {
    const own = (value as Record<string, unknown>)[slot];
    if (own !== undefined) {
      if (!implementsSlot(own, slot)) {
        throw typeError(
          `${what}: "persistence.${slot}" must be an object with methods ${
            METHODS[slot].join(", ")
          }, received ${describe(own)}`,
        );
      }
      (out as Record<Slot, unknown>)[slot] = own;
      found = true;
    } else if (slot !== "idempotency" && implementsSlot(value, slot)) {
      (out as Record<Slot, unknown>)[slot] = value;
      found = true;
    }
  }
  if (!found) {
    throw typeError(
      `${what}: "persistence" must provide at least one of lock, circuitBreaker, idempotency, cache, checkpoint, received ${
        describe(value)
      } with none`,
    );
  }
  return Object.freeze(out);
}

/** @internal Records the scope's own `persistence` option (called by the Scope constructor). */
export function setPersistence(
  scope: PersistenceNode,
  value: PersistenceOption,
  parent: PersistenceNode | undefined,
): void {
  const own = resolvePersistence(value);
  // A scope that provides only some features still inherits the others.
  const inherited = parent === undefined ? undefined : getPersistence(parent);
  byScope.set(scope, inherited === undefined ? own : Object.freeze({ ...inherited, ...own }));
}

/** The providers a scope uses: its own option merged over its nearest ancestor's. */
export function getPersistence(scope: PersistenceNode): PersistenceProviders | undefined {
  for (let s: PersistenceNode | undefined = scope; s !== undefined; s = s.parent) {
    const p = byScope.get(s);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The scope's lock provider, if its persistence has one. */
export function lockProviderOf(scope: PersistenceNode): LockProvider | undefined {
  return getPersistence(scope)?.lock;
}

/** The scope's breaker-state provider, if its persistence has one. */
export function circuitBreakerProviderOf(
  scope: PersistenceNode,
): CircuitBreakerStateProvider | undefined {
  return getPersistence(scope)?.circuitBreaker;
}

/** The scope's idempotency provider, if its persistence has one. */
export function idempotencyProviderOf(scope: PersistenceNode): IdempotencyProvider | undefined {
  return getPersistence(scope)?.idempotency;
}

/** The scope's cache provider, if its persistence has one. */
export function cacheProviderOf(scope: PersistenceNode): CacheProvider | undefined {
  return getPersistence(scope)?.cache;
}

/** The scope's checkpoint provider, if its persistence has one. */
export function checkpointProviderOf(scope: PersistenceNode): CheckpointProvider | undefined {
  return getPersistence(scope)?.checkpoint;
}
