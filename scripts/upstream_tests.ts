/**
 * Runs go-go-scope's own test files (vitest) against our core, and fails on any test that fails
 * unless `scripts/upstream_tests_expected.ts` lists it with the reason we differ on purpose.
 *
 * A developer tool, not a CI step: it needs a clone of the public repository
 * `thelinuxlich/go-go-scope`, which CI cannot fetch.
 *
 * ```sh
 * git clone <go-go-scope's repository> ../go-go-scope
 * deno run -A scripts/upstream_tests.ts --repo=../go-go-scope                 # both sets
 * deno run -A scripts/upstream_tests.ts --repo=../go-go-scope --set=primitives
 * deno run -A scripts/upstream_tests.ts --repo=../go-go-scope --only=lock,every
 * ```
 *
 * - `--repo` (or `GGS_UPSTREAM_REPO`) is a clone, bare or not; without one the script prints
 *   `SKIPPED: <reason>` and exits 0. `--commit` picks the revision (default: the 2.9.1 release;
 *   the repository has no tags). Its `packages/go-go-scope/tests/`, and the sources of the
 *   `@go-go-scope/testing` and `@go-go-scope/stream` packages some tests import, are extracted with
 *   `git archive` into `.tmp/upstream-tests/` (never committed: their code stays theirs).
 * - vitest and fast-check (pinned below) are installed there with npm; an unreachable registry is
 *   a SKIPPED too. A vitest config maps `go-go-scope` and the tests' `../src/*.js` imports to our
 *   `src/core/mod.ts`, and `@go-go-scope/stream` to its extracted source (which then runs on our
 *   core), and vitest runs the files under Node.
 * - The sets: `default` (scope, tasks, channels, breaker, cancellation, the framework adapters'
 *   patterns, types, persistence without databases, and upstream's stream package on our core),
 *   `primitives` (the extras: locks, rate limiting, batch, idempotency, checkpoints, events, log
 *   correlation, memory monitor, debug tree, the v2.3 features) and `workers` (worker threads,
 *   which our core does not provide: run only when asked). Upstream's vitest config already
 *   leaves out `performance.test.ts` and `memory-leak.test.ts` (other packages).
 * - Every test is printed (`ok`, `FAIL`, `diff` for a listed difference, `skip`), then each set's
 *   counts, then `N passed, N failed` (failed: the unlisted failures). A file with an unlisted
 *   failure is run once more; a failure that does not repeat is reported as flaky, not counted.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { EXPECTED } from "./upstream_tests_expected.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    repo: { type: "string", default: Deno.env.get("GGS_UPSTREAM_REPO") ?? "" },
    commit: { type: "string", default: "1b6759c68bc93c3be155f6cc8c49245dee4de42f" },
    set: { type: "string", default: "default,primitives" },
    only: { type: "string", default: "" },
    quiet: { type: "boolean", default: false },
  },
  strict: true,
});

const ROOT = resolve(import.meta.dirname!, "..");
const WORK = join(ROOT, ".tmp", "upstream-tests");
const TESTS = "packages/go-go-scope/tests";
const EXTRACT = [TESTS, "packages/testing/src", "packages/stream/src", "tsconfig.base.json"];
/** What the tests need from npm, pinned (vitest: the major upstream uses). */
const DEV_DEPENDENCIES: Record<string, string> = { vitest: "4.0.18", "fast-check": "4.5.3" };

/** The test files of each set, relative to `packages/go-go-scope/tests/`. */
const SETS: Record<string, readonly string[]> = {
  default: [
    "any",
    "cancellation",
    "channel-backpressure",
    "channel-properties",
    "circuit-breaker-events",
    "concurrency",
    "context-api",
    "core",
    "every",
    "fuzz",
    "race-stagger",
    "scope-properties",
    "stream",
    "lock-ttl-analysis",
    "performance-optimized",
    "type-check",
    "deno-integration",
    "persistence-integration",
    "adapters/elysia",
    "adapters/express",
    "adapters/fastify",
    "adapters/hono",
    "adapters/nestjs",
  ],
  primitives: [
    "batch",
    "checkpoint",
    "debug-tree",
    "event-emitter",
    "idempotency",
    "lock",
    "log-correlation",
    "memory-monitor",
    "rate-limiting",
    "v2.3-features",
  ],
  workers: [
    "benchmark-worker",
    "parallel-workers",
    "race-workers",
    "task-worker",
    "worker-module",
    "worker-pool",
    "worker-transfer",
  ],
};

class Skip extends Error {}

interface Outcome {
  file: string;
  /** `describe > … > test`. */
  test: string;
  status: "passed" | "failed" | "skipped";
  message: string;
}

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  stdin?: Uint8Array,
): Promise<{ code: number; out: Uint8Array; err: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  return { code: output.code, out: output.stdout, err: new TextDecoder().decode(output.stderr) };
}

/** Extracts the tests and the packages they import from the clone into `WORK`. */
async function extract(repo: string, commit: string): Promise<void> {
  const archive = await run(
    "git",
    ["-C", repo, "archive", "--format=tar", commit, ...EXTRACT],
    ROOT,
  );
  if (archive.code !== 0) throw new Skip(`git archive ${commit} failed in ${repo}: ${archive.err}`);
  await Deno.remove(join(WORK, "packages"), { recursive: true }).catch(() => {});
  const untar = await run("tar", ["-x", "-f", "-"], WORK, archive.out);
  if (untar.code !== 0) throw new Error(`tar failed: ${untar.err}`);
}

/** Installs the pinned test dependencies, unless they already are. */
async function install(): Promise<void> {
  const manifest = JSON.stringify(
    { name: "upstream-tests", private: true, type: "module", devDependencies: DEV_DEPENDENCIES },
    null,
    2,
  );
  const path = join(WORK, "package.json");
  const current = await Deno.readTextFile(path).catch(() => "");
  const installed = await Deno.stat(join(WORK, "node_modules/vitest/package.json")).then(
    () => true,
    () => false,
  );
  if (current === manifest && installed) return;
  await Deno.writeTextFile(path, manifest);
  const npm = await run("npm", ["install", "--no-audit", "--no-fund"], WORK);
  if (npm.code === 0) return;
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/.test(npm.err)) {
    throw new Skip(`npm cannot reach the registry: ${npm.err.split("\n")[0]}`);
  }
  throw new Error(`npm install failed:\n${npm.err}`);
}

/** The vitest config: upstream's imports resolve to our core. */
async function writeConfig(): Promise<string> {
  const core = JSON.stringify(join(ROOT, "src/core/mod.ts"));
  const stream = JSON.stringify(join(WORK, "packages/stream/src/index.ts"));
  const absent = JSON.stringify(join(WORK, "absent.mjs"));
  const config = `import { defineConfig } from "vitest/config";
export default defineConfig({
  resolve: {
    alias: [
      { find: /^go-go-scope$/, replacement: ${core} },
      { find: /^@go-go-scope\\/stream$/, replacement: ${stream} },
      { find: /^(ioredis|pg|mysql2|mysql2\\/promise|sqlite3)$/, replacement: ${absent} },
      // The database adapters stay unresolved: their tests skip without them.
      { find: /^(\\.\\.\\/)+src\\/(?!persistence\\/(mysql|postgres|redis|sqlite)).*$/, replacement: ${core} },
    ],
  },
  test: { globals: true, environment: "node", testTimeout: 20000 },
});
`;
  // Database clients: absent here whatever a node_modules/ above holds, so that the tests that
  // need a database skip at once instead of waiting for a server on localhost.
  await Deno.writeTextFile(join(WORK, "absent.mjs"), 'throw new Error("not installed here");\n');
  const path = join(WORK, "vitest.config.mjs");
  await Deno.writeTextFile(path, config);
  return path;
}

/** Runs vitest on `files` (paths relative to `WORK`) and returns every test's outcome. */
async function vitest(config: string, files: string[]): Promise<Outcome[]> {
  const report = join(WORK, "report.json");
  await Deno.remove(report).catch(() => {});
  const result = await run("node", [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--config",
    config,
    "--reporter=json",
    `--outputFile=${report}`,
    ...files,
  ], WORK);
  const text = await Deno.readTextFile(report).catch(() => undefined);
  if (text === undefined) {
    throw new Error(`vitest wrote no report (exit ${result.code}):\n${result.err}`);
  }
  const json = JSON.parse(text) as {
    testResults: {
      name: string;
      message?: string;
      assertionResults: {
        ancestorTitles: string[];
        title: string;
        status: string;
        failureMessages: string[];
      }[];
    }[];
  };
  const outcomes: Outcome[] = [];
  for (const file of json.testResults) {
    const name = file.name.slice(file.name.indexOf(TESTS) + TESTS.length + 1).replace(
      /\.test\.ts$/,
      "",
    );
    if (file.assertionResults.length === 0) {
      outcomes.push({
        file: name,
        test: "(file)",
        status: "failed",
        message: (file.message ?? "no test ran").split("\n")[0]!,
      });
    }
    for (const a of file.assertionResults) {
      outcomes.push({
        file: name,
        test: [...a.ancestorTitles, a.title].join(" > "),
        status: a.status === "passed" ? "passed" : a.status === "failed" ? "failed" : "skipped",
        message: (a.failureMessages[0] ?? "").split("\n")[0]!.slice(0, 300),
      });
    }
  }
  return outcomes;
}

function expectedOf(o: Outcome): string | undefined {
  return EXPECTED.find((e) => e.file === o.file && e.test === o.test)?.why;
}

async function main(): Promise<number> {
  if (flags.repo === "") throw new Skip("no go-go-scope clone given (--repo or GGS_UPSTREAM_REPO)");
  const repo = resolve(flags.repo);
  const sets = flags.set.split(",").filter(Boolean);
  for (const set of sets) {
    if (!(set in SETS)) throw new TypeError(`Cannot run: unknown set "${set}"`);
  }
  const words = flags.only.split(",").filter(Boolean);
  const setOf = new Map<string, string>();
  for (const set of sets) {
    for (const file of SETS[set]!) {
      if (words.length === 0 || words.some((w) => file.includes(w))) setOf.set(file, set);
    }
  }
  await Deno.mkdir(WORK, { recursive: true });
  await extract(repo, flags.commit);
  await install();
  const config = await writeConfig();
  const path = (file: string) => `${TESTS}/${file}.test.ts`;
  let outcomes = await vitest(config, [...setOf.keys()].map(path));

  // Unlisted failures: their files run once more; what passes then is flaky.
  const unexpected = (o: Outcome) => o.status === "failed" && expectedOf(o) === undefined;
  const again = [...new Set(outcomes.filter(unexpected).map((o) => o.file))];
  const flaky: Outcome[] = [];
  if (again.length > 0) {
    const second = await vitest(config, again.map(path));
    outcomes = outcomes.map((o) => {
      if (!unexpected(o)) return o;
      const retry = second.find((s) => s.file === o.file && s.test === o.test);
      if (retry?.status !== "passed") return o;
      flaky.push(o);
      return retry;
    });
  }

  const totals: Record<string, { passed: number; failed: number; diff: number; skipped: number }> =
    {};
  const stale: Outcome[] = [];
  for (const o of outcomes) {
    const set = setOf.get(o.file) ?? "?";
    const t = totals[set] ??= { passed: 0, failed: 0, diff: 0, skipped: 0 };
    const why = expectedOf(o);
    let mark: string;
    if (o.status === "passed") {
      t.passed++;
      mark = "ok  ";
      if (why !== undefined) stale.push(o);
    } else if (o.status === "skipped") {
      t.skipped++;
      mark = "skip";
    } else if (why !== undefined) {
      t.diff++;
      mark = "diff";
    } else {
      t.failed++;
      mark = "FAIL";
    }
    if (!flags.quiet || mark === "FAIL") {
      console.log(`${mark} ${o.file} › ${o.test}`);
      if (mark === "FAIL") console.log(`       ${o.message}`);
      if (mark === "diff") console.log(`       on purpose: ${why}`);
    }
  }
  console.log("");
  for (const o of flaky) console.log(`flaky (passed when run again): ${o.file} › ${o.test}`);
  for (const o of stale) console.log(`listed as a difference but passes: ${o.file} › ${o.test}`);
  let passed = 0;
  let failed = 0;
  for (const [set, t] of Object.entries(totals)) {
    const total = t.passed + t.failed + t.diff + t.skipped;
    console.log(
      `${set}: ${t.passed} of ${total} passed, ${t.diff} differ on purpose, ${t.failed} failed, ${t.skipped} skipped`,
    );
    passed += t.passed;
    failed += t.failed;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

try {
  Deno.exit(await main());
} catch (error) {
  if (!(error instanceof Skip)) throw error;
  console.log(`SKIPPED: ${error.message}`);
}
