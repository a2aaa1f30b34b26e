/**
 * The hot path's work per request for CI's log: a short `bench:instr` run (Node only, 3,000
 * warm-up and 1,000 counted requests per server) of bare Fastify, the plugin, the plugin with one
 * task, and a task with `retry` and `timeout`. It prints the instruction counts and their ratios to
 * bare Fastify, so that a regression shows in every run; nothing is asserted (the counts of such a
 * short run move by a few percent with the JIT's timing).
 *
 * ```sh
 * deno task bench:instr:ci
 * ```
 *
 * Prints `skipped: valgrind not installed` (and exits 0) without valgrind, and
 * `skipped: node not installed` without Node.
 *
 * @module
 */
import { ROOT, run } from "./_lib.ts";

async function has(command: string, args: string[]): Promise<boolean> {
  try {
    return (await run(command, args)).code === 0;
  } catch {
    return false;
  }
}

if (!await has("valgrind", ["--version"])) {
  console.log("skipped: valgrind not installed");
  Deno.exit(0);
}
if (!await has("node", ["--version"])) {
  console.log("skipped: node not installed");
  Deno.exit(0);
}

const args = [
  "run",
  "-A",
  `${ROOT}bench/instructions.ts`,
  "--runtime",
  "node",
  "--variants",
  "bare,plugin,task,retry-ours",
  "--warmup",
  "3000",
  "--requests",
  "1000",
  ...Deno.args,
];
console.log(`deno ${args.join(" ")}`);
const { code } = await new Deno.Command(Deno.execPath(), {
  args,
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
