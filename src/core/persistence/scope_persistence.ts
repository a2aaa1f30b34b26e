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
import { gate, whenConnected } from "./_connect.ts";

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
// The option as given, for error messages that name what it lacks.
const given = new WeakMap<PersistenceNode, PersistenceOption>();
const SLOTS = ["lock", "circuitBreaker", "idempotency", "cache", "checkpoint"] as const;
type Slot = typeof SLOTS[number];

const METHODS: Readonly<Record<Slot, readonly string[]>> = {
  lock: ["acquire", "extend", "forceRelease"],
  circuitBreaker: ["getState", "setState", "recordFailure", "recordSuccess"],
  idempotency: ["get", "set", "delete"],
  cache: ["get", "set", "delete", "has", "clear", "keys"],
  checkpoint: ["save", "loadLatest", "load", "list", "cleanup", "deleteAll"],
};
const PROVIDER: Readonly<Record<Slot, string>> = {
  lock: "a lock provider",
  circuitBreaker: "a circuit-breaker state provider",
  idempotency: "an idempotency provider",
  cache: "a cache provider",
  checkpoint: "a checkpoint provider",
};
// A value given whole as `persistence` that has this method means to provide
// the feature: missing another of its methods is a mistake worth naming.
// (A cache's methods are too common to tell.)
const ANCHOR: Readonly<Partial<Record<Slot, string>>> = {
  lock: "acquire",
  circuitBreaker: "recordFailure",
  checkpoint: "loadLatest",
};
const WHAT = "Cannot create scope";

/** The first of the feature's methods that `value` lacks; `undefined` when it has them all. */
function missingMethod(value: unknown, slot: Slot): string | undefined {
  if (typeof value !== "object" || value === null) return METHODS[slot][0];
  for (const m of METHODS[slot]) {
    if (typeof (value as Record<string, unknown>)[m] !== "function") return m;
  }
  return undefined;
}

/** The error of a provider that lacks `missing` (`why`: what needs it, if not the option itself). */
function lacks(slot: Slot, value: unknown, missing: string, why?: string): TypeError {
  const all = METHODS[slot].join(", ");
  if (typeof value !== "object" || value === null) {
    return typeError(
      `${WHAT}: "persistence.${slot}" must have the methods ${all}, received ${describe(value)}`,
    );
  }
  const reason = why ?? `${PROVIDER[slot]} has ${all}`;
  return typeError(
    `${WHAT}: "persistence.${slot}" must have the method ${missing} (${reason}), received ${
      describe(value)
    } without it`,
  );
}

/**
 * Turns the option's value into one provider per feature: each is taken from
 * the property of that name, or (for every feature but idempotency) from the
 * value itself when it has that provider's methods.
 *
 * @throws {TypeError} When the value is not an object, a property is not a
 * provider, the value has part of a provider's methods (naming the first one
 * it lacks), or it provides nothing.
 */
export function resolvePersistence(
  value: PersistenceOption,
): PersistenceProviders {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(
      `${WHAT}: "persistence" must be an adapter or an object of providers { lock, circuitBreaker, idempotency, cache, checkpoint }, received ${
        describe(value)
      }`,
    );
  }
  const out: PersistenceProviders = {};
  let found = false;
  for (const slot of SLOTS) {
    const own = (value as Record<string, unknown>)[slot];
    if (own !== undefined) {
      const missing = missingMethod(own, slot);
      if (missing !== undefined) throw lacks(slot, own, missing);
      (out as Record<Slot, unknown>)[slot] = own;
      found = true;
    } else if (slot !== "idempotency") {
      const missing = missingMethod(value, slot);
      if (missing === undefined) {
        (out as Record<Slot, unknown>)[slot] = value;
        found = true;
      } else {
        const anchor = ANCHOR[slot];
        if (
          anchor !== undefined && typeof (value as Record<string, unknown>)[anchor] === "function"
        ) {
          throw lacks(slot, value, missing);
        }
      }
    }
  }
  if (!found) {
    throw typeError(
      `${WHAT}: "persistence" must provide at least one of lock, circuitBreaker, idempotency, cache, checkpoint, received ${
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
  // Adapters with connect() are connected before the first call through them.
  for (const slot of SLOTS) {
    const provider = own[slot];
    if (provider !== undefined) gate(provider, [value, provider]);
  }
  given.set(scope, value);
  // A scope that provides only some features still inherits the others.
  const inherited = parent === undefined ? undefined : getPersistence(parent);
  byScope.set(scope, inherited === undefined ? own : Object.freeze({ ...inherited, ...own }));
}

/**
 * @internal The scope's circuit-breaker state provider, for a keyed breaker:
 * `undefined` without persistence (the breaker stays in this process).
 *
 * @throws {TypeError} When the scope has persistence that cannot hold breaker
 * state, naming the method it lacks.
 */
export function requireCircuitBreakerProvider(
  scope: PersistenceNode,
  key: string,
): CircuitBreakerStateProvider | undefined {
  const providers = getPersistence(scope);
  if (providers === undefined || providers.circuitBreaker !== undefined) {
    return providers?.circuitBreaker;
  }
  let value: PersistenceOption | undefined;
  for (
    let s: PersistenceNode | undefined = scope;
    value === undefined && s !== undefined;
    s = s.parent
  ) {
    value = given.get(s);
  }
  throw lacks(
    "circuitBreaker",
    value,
    missingMethod(value, "circuitBreaker") ?? METHODS.circuitBreaker[0]!,
    `the keyed circuit breaker ${JSON.stringify(key)} shares its state through it`,
  );
}

/**
 * @internal Resolves once every adapter of the scope's persistence that has
 * `connect()` is connected; rejects with the error of one that failed.
 */
export async function connectPersistence(scope: PersistenceNode): Promise<void> {
  const providers = getPersistence(scope);
  if (providers === undefined) return;
  for (const slot of SLOTS) {
    const provider = providers[slot];
    if (provider !== undefined) await whenConnected(provider);
  }
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
