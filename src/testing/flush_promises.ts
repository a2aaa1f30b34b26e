/**
 * `flushPromises()`: waits one real macrotask, by which time every pending
 * promise callback has run, whether or not a virtual clock is installed.
 *
 * @module
 */
import { nextMacrotask } from "./_real_timers.ts";

/**
 * Resolves once every promise callback pending now (and those they queue) has
 * run: after one macrotask of the runtime's own `setImmediate` (or
 * `setTimeout(0)` where there is none), captured when the kit loaded. Unlike
 * go-go-scope's, which waits on the global `setTimeout` and so never resolves
 * while its clock is installed, this one resolves under the virtual clock too.
 *
 * @returns A promise that resolves after the pending promise callbacks ran.
 *
 * @example
 * ```ts
 * import { flushPromises } from "@go-go-scope/adapter-fastify/testing";
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * let resolved = false;
 * s.task(async () => {
 *   await Promise.resolve();
 *   resolved = true;
 * });
 * await flushPromises();
 * console.log(resolved); // true
 * ```
 */
export function flushPromises(): Promise<void> {
  return nextMacrotask();
}
