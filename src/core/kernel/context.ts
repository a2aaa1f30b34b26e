// A scope's mutable key/value context (setContext and friends), behind the
// Scope methods of the same names. A scope's own changes live in a Map in its
// extras; reads walk up the tree, so a child sees what its ancestors set, even
// later, unless it shadows or removes the key itself. At each level the keys
// set with setContext come before the ones the `context` option gave.
import { BASE_CONTEXT, EXTRAS, INIT_EXTRAS } from "../base/_symbols.ts";
import type { ExtrasNode, ScopeExtras } from "./_owner.ts";
import { assertString } from "../base/_validate.ts";

/** Marks a key removed in this scope (it may still exist above). */
const REMOVED: unique symbol = Symbol("ggs.removed");

// Bumped by every change anywhere: a cached view is valid while its version
// is current. Zero while no scope ever changed its context, which keeps
// `scope.context` on the hot path a field read.
let version = 0;

function assertKey(what: string, key: unknown): asserts key is string {
  assertString(what, "key", key);
}

/**
 * Whether the creation context of `s` gave `key` a value of its own: not
 * merely copied from the parent's creation context (copied keys are looked
 * up in the parent, so its later changes show through).
 */
function ownsBaseKey(s: ExtrasNode, key: string): boolean {
  const base = s[BASE_CONTEXT];
  if (!Object.hasOwn(base, key)) return false;
  const parent = s.parent;
  if (parent === undefined) return true;
  const above = parent[BASE_CONTEXT];
  return !(Object.hasOwn(above, key) && above[key] === base[key]);
}

/** Finds `key`: its value, or REMOVED when the scope does not see it. */
function lookup(node: ExtrasNode, key: string): unknown {
  for (let s: ExtrasNode | undefined = node; s !== undefined; s = s.parent) {
    const own = s[EXTRAS]?.context;
    if (own !== undefined && own.has(key)) return own.get(key);
    if (ownsBaseKey(s, key)) return s[BASE_CONTEXT][key];
  }
  return REMOVED;
}

function init(node: ExtrasNode): Map<string, unknown> {
  const extras: ScopeExtras = node[INIT_EXTRAS]();
  return extras.context ??= new Map();
}

/** `scope.setContext(key, value)`. */
export function setContext(node: ExtrasNode, key: string, value: unknown): void {
  const what = "Cannot set context";
  assertKey(what, key);
  if (node.isDisposed) throw new Error(`${what} on disposed scope "${node.name}"`);
  init(node).set(key, value);
  version++;
}

/** `scope.getContext(key)`. */
export function getContext(node: ExtrasNode, key: string): unknown {
  assertKey("Cannot get context", key);
  const value = lookup(node, key);
  return value === REMOVED ? undefined : value;
}

/** `scope.hasContext(key)`. */
export function hasContext(node: ExtrasNode, key: string): boolean {
  assertKey("Cannot check context", key);
  return lookup(node, key) !== REMOVED;
}

/** `scope.removeContext(key)`: true when the scope saw the key. */
export function removeContext(node: ExtrasNode, key: string): boolean {
  assertKey("Cannot remove context", key);
  if (lookup(node, key) === REMOVED) return false;
  init(node).set(key, REMOVED);
  version++;
  return true;
}

/** `scope.getAllContext()`: a plain copy of every key the scope sees (the caller may change it). */
export function getAllContext(node: ExtrasNode): Record<string, unknown> {
  return { ...contextOf(node) };
}

/**
 * The record `scope.context` and `ctx.context` show: the creation context
 * while nothing was ever changed, otherwise a frozen flattened view, cached
 * until the next change anywhere.
 */
export function contextOf(node: ExtrasNode): Readonly<Record<string, unknown>> {
  if (version === 0) return node[BASE_CONTEXT];
  let changed = false;
  for (let s: ExtrasNode | undefined = node; s !== undefined; s = s.parent) {
    if (s[EXTRAS]?.context !== undefined) {
      changed = true;
      break;
    }
  }
  if (!changed) return node[BASE_CONTEXT];
  const extras = node[INIT_EXTRAS]();
  if (extras.contextVersion === version && extras.contextView !== undefined) {
    return extras.contextView;
  }
  const chain: ExtrasNode[] = [];
  for (let s: ExtrasNode | undefined = node; s !== undefined; s = s.parent) chain.push(s);
  const view: Record<string, unknown> = {};
  for (let i = chain.length - 1; i >= 0; i--) {
    const s = chain[i]!;
    for (const key in s[BASE_CONTEXT]) {
      if (ownsBaseKey(s, key)) view[key] = s[BASE_CONTEXT][key];
    }
    const own = s[EXTRAS]?.context;
    if (own === undefined) continue;
    for (const [key, value] of own) {
      if (value === REMOVED) delete view[key];
      else view[key] = value;
    }
  }
  extras.contextVersion = version;
  return extras.contextView = Object.freeze(view);
}
