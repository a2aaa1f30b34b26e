/**
 * The scope option `idempotency: { defaultTTL }`: how long the results of the
 * scope's idempotent tasks count when a task gives no `ttl`, inherited by
 * child scopes (a child's own option replaces it). Kept off the scope object:
 * scopes without it carry nothing, and only a task with the `idempotency`
 * option looks it up.
 *
 * @module
 */
import { assertKnownKeys, assertMs, assertObject } from "../base/_validate.ts";

/**
 * The scope option `idempotency`.
 *
 * @example
 * ```ts
 * import { scope, type ScopeIdempotencyOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const idempotency: ScopeIdempotencyOptions = { defaultTTL: 60_000 };
 * await using s = scope({ idempotency });
 * console.log(s.createChild().idempotency?.defaultTTL); // 60000
 * ```
 */
export interface ScopeIdempotencyOptions {
  /** Ms a stored result counts for a task without `idempotency.ttl`. @default until evicted */
  defaultTTL?: number;
}

/** A scope as this file sees it: its place in the tree. */
interface Node {
  readonly parent: Node | undefined;
}

const WHAT = "Cannot create scope";
const options = new WeakMap<Node, Readonly<ScopeIdempotencyOptions>>();

/** Validates the option and records it for `s` (and, through the lookup, its children). */
export function setScopeIdempotency(s: Node, option: unknown): void {
  assertObject(WHAT, "idempotency", option);
  assertKnownKeys(`${WHAT}: "idempotency"`, option, ["defaultTTL"]);
  const { defaultTTL } = option as ScopeIdempotencyOptions;
  if (defaultTTL !== undefined) assertMs(WHAT, "idempotency.defaultTTL", defaultTTL);
  options.set(s, Object.freeze(defaultTTL === undefined ? {} : { defaultTTL }));
}

/** The `idempotency` option in force for `s`: its own, else the nearest ancestor's. */
export function scopeIdempotencyOf(s: Node): Readonly<ScopeIdempotencyOptions> | undefined {
  for (let node: Node | undefined = s; node !== undefined; node = node.parent) {
    const found = options.get(node);
    if (found !== undefined) return found;
  }
  return undefined;
}
