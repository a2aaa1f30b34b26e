/**
 * Whether mod.ts exports the real plugin yet. Until it does, the benchmarks run a stand-in
 * (bench/_servers/standin_plugin.mjs) and label every result with it.
 *
 * @module
 */

/** Returns `null` when mod.ts exports `fastifyGoGoScope`, otherwise the reason it cannot be used. */
export async function probePlugin(): Promise<string | null> {
  try {
    const mod: Record<string, unknown> = await import("../mod.ts");
    return typeof mod.fastifyGoGoScope === "function"
      ? null
      : "mod.ts does not export fastifyGoGoScope yet";
  } catch (error) {
    return `mod.ts failed to load: ${
      error instanceof Error ? error.message.split("\n")[0] : error
    }`;
  }
}
