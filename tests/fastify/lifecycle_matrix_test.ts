// The request scope's lifecycle as a matrix over real sockets on 127.0.0.1:0:
// every phase the scope is first read in, every phase the request is stalled
// in when it ends, every way it ends and every protocol, generated from the
// table in _matrix.ts. Each case checks the abort reason, that the scope's
// signal aborts within 100 ms of the event (and not before it), and that no
// scope is left alive; then `request.scope = value` in a hook (_matrix_assign.ts);
// the file checks that no promise rejection went unhandled.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { columns, matrixCases } from "./_matrix.ts";
import { assignCases, runAssignCase } from "./_matrix_assign.ts";
import { type CaseResult, runCase, runCases } from "./_matrix_run.ts";
import { watchUnhandledRejections } from "./_helpers.ts";

/** Cases run at once within a column (each on its own app and socket). */
const CONCURRENCY = 6;

/** Runs only the cases whose name contains it (to rerun one while fixing it). */
const ONLY = process.env.MATRIX_ONLY;

const rejections = watchUnhandledRejections();
after(() => rejections.stop());

const failing: string[] = [];
const rerun: string[] = [];
const latencies: string[] = [];
let total = 0;

/** `n 29, median 2.1 ms, max 7.9 ms`: a column's abort latencies. */
function summary(results: Map<string, CaseResult>): string {
  const all = [...results.values()].flatMap((r) => r.latencies).sort((a, b) => a - b);
  if (all.length === 0) return "no abort seen";
  const median = all[Math.floor(all.length / 2)]!;
  return `${all.length} aborts, median ${median.toFixed(1)} ms, max ${all.at(-1)!.toFixed(1)} ms`;
}

/**
 * One describe for a group of cases: they run together in `before` (with
 * `run`), then one `it` per case reports it.
 */
function group<C extends { readonly name: string }>(
  title: string,
  all: readonly C[],
  run: (c: C) => Promise<CaseResult>,
): void {
  const cases = all.filter((c) => ONLY === undefined || c.name.includes(ONLY));
  if (cases.length === 0) return;
  total += cases.length;
  describe(`lifecycle matrix: ${title}`, () => {
    let results = new Map<string, CaseResult>();
    before(async () => {
      const started = performance.now();
      results = await runCases(cases, CONCURRENCY, run);
      const ms = Math.round(performance.now() - started);
      latencies.push(`${title}: ${cases.length} cases in ${ms} ms; ${summary(results)}`);
    });
    for (const c of cases) {
      it(c.name, () => {
        const result = results.get(c.name);
        assert.ok(result !== undefined, "the case did not run");
        const again = result.observed.find((o) => o.startsWith("rerun "));
        if (again !== undefined) rerun.push(`${c.name}: ${again}`);
        if (result.failures.length > 0) {
          failing.push(`${c.name}\n    ${[...result.failures, ...result.observed].join("\n    ")}`);
        }
        assert.deepEqual(
          result.failures,
          [],
          `${c.name}\n  observed: ${result.observed.join("; ") || "nothing"}`,
        );
      });
    }
  });
}

/** One group per (protocol, end) column of the table. */
for (const { protocol, end } of columns(["h1", "h1-pipelined", "h2"])) {
  group(`${protocol} | ${end}`, matrixCases(protocol, end), runCase);
}

group("request.scope = value", assignCases(), runAssignCase);

describe("lifecycle matrix: the whole file", () => {
  it("no promise rejection went unhandled, and every failing case is listed", () => {
    console.log(`abort latencies after the event:\n  ${latencies.join("\n  ")}`);
    if (rerun.length > 0) console.log(`rerun for lateness only:\n  ${rerun.join("\n  ")}`);
    if (failing.length > 0) {
      console.log(`${failing.length} of ${total} cases failed:\n  ${failing.join("\n  ")}`);
    }
    assert.deepEqual(rejections.seen.map(String), []);
  });
});
