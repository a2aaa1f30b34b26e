/**
 * Services: values a scope provides to its code, its tasks (`ctx.services`)
 * and its child scopes, behind `scope.provide()`, `use()`, `has()` and
 * `override()`. A scope's own services live in a Map in its extras; reads walk
 * up the tree, so a child sees its ancestors' services (even ones provided
 * after it was created) unless it overrides them.
 *
 * @module
 */
import { EXTRAS, INIT_EXTRAS, SERVICE_DISPOSED } from "../base/_symbols.ts";
import type { ExtrasNode } from "./_owner.ts";
import {
  assertFunction,
  assertKnownKeys,
  assertObject,
  describe,
  keysOf,
  typeError,
} from "../base/_validate.ts";

/**
 * The shape of a scope's services: key to value. `Scope<S>` carries the map of
 * what was provided; a plain `Scope` accepts any key.
 *
 * @example
 * ```ts
 * import { scope, type ServiceMap } from "@go-go-scope/adapter-fastify/core";
 *
 * const services: ServiceMap = { db: { query: () => [] } };
 * await using s = scope().provide("db", services.db);
 * console.log(s.has("db")); // true
 * ```
 */
export type ServiceMap = Record<string | symbol, unknown>;

/**
 * The service map of a scope nothing was provided to: no key is known.
 *
 * @example
 * ```ts
 * import type { NoServices, Scope } from "@go-go-scope/adapter-fastify/core";
 *
 * type Fresh = Scope<NoServices>;
 * ```
 */
export type NoServices = Record<never, never>;

/**
 * Options of `scope.provide()`.
 *
 * @typeParam T The service's value.
 *
 * @example
 * ```ts
 * import { type ProvideOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ProvideOptions<Set<string>> = { dispose: (set) => set.clear() };
 * await using s = scope().provide("seen", () => new Set<string>(), options);
 * s.use("seen").add("a");
 * ```
 */
export interface ProvideOptions<T> {
  /**
   * Called with the value when the scope is disposed (last provided, first
   * disposed, interleaved with `onDispose` cleanups). A promise from the
   * factory is awaited first; if it rejects, `dispose` is not called.
   */
  dispose?: (value: Awaited<T>) => unknown;
  /**
   * Keep the service already visible under this key (here or in an ancestor)
   * and do not call the factory. @default false
   */
  singleton?: boolean;
}

/**
 * Options of `scope.override()`.
 *
 * @example
 * ```ts
 * import { type OverrideOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: OverrideOptions<string> = { dispose: (v) => console.log("bye", v) };
 * await using s = scope().provide("name", "real").override("name", "fake", options);
 * console.log(s.use("name")); // fake
 * ```
 */
export interface OverrideOptions<T> {
  /** Called with the new value when the scope is disposed. */
  dispose?: (value: Awaited<T>) => unknown;
}

const PROVIDE_KNOWN = keysOf<ProvideOptions<unknown>>()(["dispose", "singleton"]);
const OVERRIDE_KNOWN = keysOf<OverrideOptions<unknown>>()(["dispose"]);
const EMPTY: Readonly<ServiceMap> = Object.freeze({});

// Bumped by every provide/override anywhere: a cached view is valid while its
// version is current; zero while nothing was ever provided.
let version = 0;

function assertKey(what: string, key: unknown): asserts key is string | symbol {
  if (typeof key !== "string" && typeof key !== "symbol") {
    throw typeError(`${what}: "key" must be a string or symbol, received ${describe(key)}`);
  }
}

function label(key: unknown): string {
  return typeof key === "string" ? `'${key}'` : String(key);
}

/** go-go-scope's wording ("Cannot override service on disposed scope"), naming both. */
function disposedError(verb: string, key: string | symbol, node: ExtrasNode): Error {
  return new Error(
    `Cannot ${verb} service on disposed scope "${node.name}" (service ${label(key)})`,
  );
}

function find(node: ExtrasNode, key: string | symbol): { value: unknown } | undefined {
  for (let s: ExtrasNode | undefined = node; s !== undefined; s = s.parent) {
    const own = s[EXTRAS]?.services;
    if (own !== undefined && own.has(key)) return { value: own.get(key) };
  }
  return undefined;
}

function resolve<T>(valueOrFactory: T | (() => T)): T {
  return typeof valueOrFactory === "function" ? (valueOrFactory as () => T)() : valueOrFactory;
}

function store(
  node: ExtrasNode,
  key: string | symbol,
  value: unknown,
  dispose: ((value: never) => unknown) | undefined,
): void {
  const extras = node[INIT_EXTRAS]();
  (extras.services ??= new Map()).set(key, value);
  version++;
  if (dispose !== undefined) {
    const index = extras.disposers = (extras.disposers ?? 0) + 1;
    node.onDispose(async () => {
      let resolved: unknown;
      try {
        resolved = await value;
      } catch {
        return; // the factory's own failure was the caller's to handle
      }
      try {
        await dispose(resolved as never);
      } catch (error) {
        node[SERVICE_DISPOSED]?.(index, error);
        throw error;
      }
      node[SERVICE_DISPOSED]?.(index, undefined);
    });
  }
}

function checkOptions(
  what: string,
  options: object | undefined,
  known: readonly string[],
): ((value: never) => unknown) | undefined {
  if (options === undefined) return undefined;
  assertObject(what, "options", options);
  assertKnownKeys(what, options, known);
  const { dispose, singleton } = options as ProvideOptions<unknown>;
  if (dispose !== undefined) assertFunction(what, "dispose", dispose);
  if (singleton !== undefined && typeof singleton !== "boolean") {
    throw typeError(`${what}: "singleton" must be a boolean, received ${describe(singleton)}`);
  }
  return dispose as ((value: never) => unknown) | undefined;
}

/** `scope.provide()` (internal: see `Scope.provide`). */
export function provide<T>(
  node: ExtrasNode,
  key: string | symbol,
  valueOrFactory: T | (() => T),
  options: ProvideOptions<T> | undefined,
): void {
  const what = `Cannot provide service ${label(key)}`;
  assertKey("Cannot provide service", key);
  const dispose = checkOptions(what, options, PROVIDE_KNOWN);
  if (node.isDisposed) throw disposedError("provide", key, node);
  if (options?.singleton === true && find(node, key) !== undefined) return;
  store(node, key, resolve(valueOrFactory), dispose);
}

/** `scope.override()` (internal: see `Scope.override`). */
export function override<T>(
  node: ExtrasNode,
  key: string | symbol,
  valueOrFactory: T | (() => T),
  options: OverrideOptions<T> | undefined,
): void {
  const what = `Cannot override service ${label(key)}`;
  assertKey("Cannot override service", key);
  const dispose = checkOptions(what, options, OVERRIDE_KNOWN);
  if (node.isDisposed) throw disposedError("override", key, node);
  if (find(node, key) === undefined) {
    throw new Error(
      `${what}: it was not provided to scope "${node.name}" or its ancestors; call provide() first`,
    );
  }
  store(node, key, resolve(valueOrFactory), dispose);
}

/** `scope.use()`: the nearest value under `key`, or `undefined`. */
export function use(node: ExtrasNode, key: string | symbol): unknown {
  assertKey("Cannot use service", key);
  return find(node, key)?.value;
}

/** `scope.has()`: whether `key` is provided here or above; false once disposed. */
export function has(node: ExtrasNode, key: string | symbol): boolean {
  assertKey("Cannot check service", key);
  return !node.isDisposed && find(node, key) !== undefined;
}

/** What `ctx.services` shows: a frozen flattened view, cached until the next change anywhere. */
export function servicesOf(node: ExtrasNode): Readonly<ServiceMap> {
  if (version === 0) return EMPTY;
  const chain: ExtrasNode[] = [];
  let any = false;
  for (let s: ExtrasNode | undefined = node; s !== undefined; s = s.parent) {
    chain.push(s);
    if (s[EXTRAS]?.services !== undefined) any = true;
  }
  if (!any) return EMPTY;
  const extras = node[INIT_EXTRAS]();
  if (extras.servicesVersion === version && extras.servicesView !== undefined) {
    return extras.servicesView;
  }
  const view: ServiceMap = {};
  for (let i = chain.length - 1; i >= 0; i--) {
    const own = chain[i]![EXTRAS]?.services;
    if (own !== undefined) { for (const [key, value] of own) view[key] = value; }
  }
  extras.servicesVersion = version;
  return extras.servicesView = Object.freeze(view);
}
