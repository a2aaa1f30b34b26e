// The one internal door between the Fastify plugin and the core. The plugin
// validates its options once (at registration, and per route in onRoute) and
// then creates and ends request scopes through these two functions, which skip
// the public API's option parsing. Never re-exported by mod.ts.
import { CHILD, type ChildSettings, DISPOSE } from "./_internal.ts";
import { Scope } from "./scope.ts";

export type { ChildSettings };

/** A child of `parent` built from already-validated `settings`. */
export function childScope(parent: Scope, settings: ChildSettings): Scope {
  return Scope[CHILD](parent, settings);
}

/** Disposes `s`; `undefined` when disposal finished synchronously (nothing to await). */
export function disposeScope(s: Scope): Promise<void> | undefined {
  return s[DISPOSE]();
}
