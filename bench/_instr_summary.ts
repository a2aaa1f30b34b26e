/**
 * Summarises `.tmp/callgrind/runs.jsonl` (one line per process counted by `bench:instr`), so that
 * processes from several invocations (run at the same time or one after the other) pool into one
 * table: per runtime, server script, V8 flags, warm-up and counted requests, and variant, the
 * median main-thread instructions per request, min–max, spread, number of processes and the
 * difference to the same group's `bare`.
 *
 * ```sh
 * deno run -A bench/_instr_summary.ts [.tmp/callgrind/runs.jsonl] [--since 2026-12-02T01:30]
 * ```
 *
 * @module
 */
import { int, median, ROOT, table } from "./_lib.ts";

interface Line {
  at: string;
  runtime: string;
  v8Flags?: string[];
  script: string;
  variant: string;
  warmup: number;
  requests: number;
  main: number;
  all: number;
  client?: string;
}

const args = [...Deno.args];
const sinceAt = args.indexOf("--since");
const since = sinceAt >= 0 ? args.splice(sinceAt, 2)[1] ?? "" : "";
const file = args[0] ?? `${ROOT}.tmp/callgrind/runs.jsonl`;
const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Line).filter((l) => l.at >= since);

const groups = new Map<string, Map<string, Line[]>>();
for (const line of lines) {
  const script = line.script.split("/").at(-1);
  const plugin = (line as { plugin?: string }).plugin ?? "";
  // The load client (since 2026-12-07; earlier lines were counted with autocannon).
  const client = line.client ?? "autocannon";
  const key =
    `${line.runtime} ${script}${plugin === "" ? "" : ` plugin:${plugin}`} v8:[${
      (line.v8Flags ?? []).join(" ")
    }] ` +
    `${line.warmup}+${line.requests} client:${client}`;
  const variants = groups.get(key) ?? new Map<string, Line[]>();
  variants.set(line.variant, [...(variants.get(line.variant) ?? []), line]);
  groups.set(key, variants);
}
for (const [key, variants] of groups) {
  const bare = variants.get("bare");
  const base = bare === undefined ? NaN : median(bare.map((l) => l.main));
  // The targets' reference: the mean of the medians of bare and its control.
  const control = variants.get("control");
  const reference = control === undefined ? NaN : (base + median(control.map((l) => l.main))) / 2;
  const rows: string[][] = [];
  for (const [variant, list] of variants) {
    const mains = list.map((l) => l.main);
    const m = median(mains);
    const lo = Math.min(...mains);
    const hi = Math.max(...mains);
    rows.push([
      variant,
      String(list.length),
      int(m),
      list.length > 1 ? `${int(lo)}–${int(hi)}` : "–",
      list.length > 1 ? `${((hi - lo) / m * 100).toFixed(1)}%` : "–",
      Number.isNaN(base) ? "–" : `${((m / base - 1) * 100).toFixed(1)}%`,
      Number.isNaN(base) ? "–" : int(m - base),
      Number.isNaN(reference) ? "–" : (m / reference).toFixed(3),
      int(median(list.map((l) => l.all))),
    ]);
  }
  console.log(`\n${key}\n`);
  console.log(table(
    [
      "variant",
      "processes",
      "main-thread instructions/request (median)",
      "min–max",
      "spread",
      "over bare",
      "over bare (instructions)",
      "ratio to mean(bare, control)",
      "all threads",
    ],
    rows,
  ));
}
