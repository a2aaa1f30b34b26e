/**
 * The checks, in two sizes:
 *
 * - `deno task ci` (this script): the fast check, a few minutes on 2 cores: formatting, lint, type
 *   checks (code blocks of README.md and docs/ included), the code blocks themselves, the Deno
 *   suite, the Node suite on the machine's Node against the built `npm/`, `deno doc --lint` and the
 *   JSR dry run. It installs nothing but the npm packages deno.dev.lock pins.
 * - `deno task ci:full` (`--full`, what `.ci/run` calls): the same, plus what needs installing or
 *   takes long: `redis-server` and Chromium from Debian (as root), the packed tarball in a project
 *   pinned by `scripts/consumer/package-lock.json` with its consumer checks, the Node suite on Node
 *   20, 22 and 24 against it (instead of the fast check's Node run, so that each runtime's suite
 *   runs, and counts, once), the hot-path instruction counts and the browser tests.
 *
 * Runs every step in order and keeps going after a failure, streaming each step's output. Test
 * steps count their tests (Deno's `ok | N passed | M failed` summary, Node's `pass N` / `fail N`
 * lines, the npm build's `[check] pass|fail` lines); every other step counts as one check. The
 * last line printed is `N passed, N failed`, and the exit code is non-zero if anything failed.
 *
 * @module
 */

const DENO = Deno.execPath();
const FULL = Deno.args.includes("--full");
const STEP_TIMEOUT_MS = 20 * 60_000;
/**
 * After a step's process ends (or is killed), how long its output may stay open: a grandchild that
 * outlives it holds the pipes, and the run must not wait for it.
 */
const DRAIN_MS = 5_000;
const JUNIT = ".tmp/ci/deno-test-junit.xml";

interface Step {
  /** What the log calls it. */
  name: string;
  /** Arguments to `deno`. */
  args: string[];
  /** Whether the step prints test counts worth adding up. */
  counts: boolean;
  /** A JUnit report the step writes (`deno test --junit-path`), read for exact counts. */
  junit?: string;
}

/** README.md and every page of docs/ (their code blocks are type-checked and run). */
async function docFiles(): Promise<string[]> {
  const files = ["README.md"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".md")) files.push(path);
    }
  };
  if (await exists("docs")) await walk("docs");
  return files.sort();
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Outcome extends Counts {
  name: string;
  /** `SKIPPED: <reason>` lines the step printed. */
  skips: string[];
  code: number;
  ms: number;
}

const steps: Step[] = [
  { name: "deno fmt --check", args: ["fmt", "--check"], counts: false },
  { name: "deno lint", args: ["lint"], counts: false },
  {
    name: "deno.json and deno.dev.json agree",
    args: ["run", "--allow-read", "scripts/check_configs.ts"],
    counts: false,
  },
  { name: "deno task check", args: ["task", "check"], counts: false },
  {
    name: "no import circles (madge)",
    args: ["run", "--allow-run=npx", "scripts/check_circles.ts"],
    counts: false,
  },
  {
    name: "source layout (file and folder sizes, first comments)",
    args: ["run", "--allow-read", "scripts/check_layout.ts"],
    counts: false,
  },
  {
    name: "deno check --doc-only (README.md, docs/)",
    args: ["check", "--config", "deno.dev.json", "--doc-only", ...await docFiles()],
    counts: false,
  },
  { name: "deno task test:doc", args: ["task", "test:doc"], counts: false },
  ...FULL
    ? [{
      name: "redis-server for the Redis tests",
      args: ["run", "-A", "scripts/ensure_redis.ts"],
      counts: false,
    }, {
      name: "mariadb-server for the MySQL adapter test",
      args: ["run", "-A", "scripts/ensure_mariadb.ts"],
      counts: false,
    }]
    : [],
  {
    name: "deno doc --lint (every export)",
    args: ["doc", "--lint", "mod.ts", "src/core/mod.ts", "src/redis/mod.ts", "src/testing/mod.ts"],
    counts: false,
  },
  {
    name: "deno task test",
    args: ["task", "test", `--junit-path=${JUNIT}`],
    counts: true,
    junit: JUNIT,
  },
  FULL
    ? {
      name: "npm build, packed-tarball checks, Node 20/22/24 tests",
      args: ["run", "--config", "deno.dev.json", "-A", "scripts/build_npm.ts", "--test", "--pack"],
      counts: true,
    }
    : {
      name: "npm build, Node tests (this machine's node)",
      args: ["run", "--config", "deno.dev.json", "-A", "scripts/build_npm.ts", "--test"],
      counts: true,
    },
  ...FULL
    ? [{
      // Fastify's own test suite, bare and with the plugin on every instance: fails on a test
      // whose outcome changes (scripts/fastify_suite_expected.ts lists the allowed ones). Right
      // after the npm build, whose npm/ it reuses.
      name: "Fastify's own test suite with the plugin",
      args: ["run", "-A", "scripts/fastify_suite.ts", "--reuse-build"],
      counts: false,
    }, {
      // Instructions per request of the hot path, printed in CI's log (no timed assertion).
      name: "bench:instr:ci (hot-path instruction counts)",
      args: ["task", "bench:instr:ci"],
      counts: false,
    }]
    : [],
  {
    name: "deno publish --dry-run",
    args: ["publish", "--dry-run", "--allow-dirty"],
    counts: false,
  },
];
if (FULL && await exists("scripts/browser_test.ts")) {
  steps.push({ name: "deno task test:browser", args: ["task", "test:browser"], counts: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Adds up the test counts found in a step's output; `null` if it printed none. */
export function parseCounts(output: string): Counts | null {
  const text = output.replace(ANSI, "");
  // A plain "N passed, N failed" line is a script's own total: the last one wins.
  const plain = [...text.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/gm)].pop();
  if (plain) {
    return { passed: Number(plain[1]), failed: Number(plain[2]), skipped: Number(plain[3] ?? 0) };
  }
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  let found = false;
  // Deno: "ok | 12 passed (30 steps) | 0 failed (4 steps) | 1 ignored (2s)" or "FAILED | ...".
  for (const m of text.matchAll(/^(?:ok|FAILED) \|(.*)$/gm)) {
    found = true;
    const line = m[1]!;
    const read = (word: string) => {
      const r = line.match(new RegExp(`(\\d+) ${word}(?: \\((\\d+) steps?\\))?`));
      return r ? Number(r[1]) + Number(r[2] ?? 0) : 0;
    };
    counts.passed += read("passed");
    counts.failed += read("failed");
    counts.skipped += read("ignored");
  }
  // Node's test runner: "# pass 3" (TAP) or "ℹ pass 3" (spec).
  for (const m of text.matchAll(/^(?:#|ℹ) (pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm)) {
    found = true;
    const n = Number(m[2]);
    if (m[1] === "pass") counts.passed += n;
    else if (m[1] === "fail" || m[1] === "cancelled") counts.failed += n;
    else counts.skipped += n;
  }
  // The npm build's consumer checks.
  for (const m of text.matchAll(/^\[check\] (pass|fail) /gm)) {
    found = true;
    if (m[1] === "pass") counts.passed++;
    else counts.failed++;
  }
  return found ? counts : null;
}

const XML_ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
  "&amp;": "&",
};

/**
 * Counts the tests of a `deno test` JUnit report. Deno reports a `describe` (or any test with
 * steps) as a test and each `it` as a step: only the leaves are counted, as Node counts them.
 */
export function parseJunit(xml: string): Counts | null {
  const cases = [
    ...xml.matchAll(/<testcase\s+name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g),
  ].map((m) => ({
    name: m[1]!.replace(/&(?:lt|gt|quot|apos|amp);/g, (e) => XML_ENTITIES[e]!),
    body: m[2] ?? "",
  }));
  if (cases.length === 0) return null;
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) {
    if (cases.some((other) => other.name.startsWith(`${c.name} > `))) continue;
    if (/<(failure|error)\b/.test(c.body)) counts.failed++;
    else if (/<skipped\b/.test(c.body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

async function readJunit(path: string | undefined): Promise<Counts | null> {
  if (!path) return null;
  try {
    return parseJunit(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Runs `deno <args>`, streaming its output while keeping a copy to read the counts from. */
async function runStep(step: Step): Promise<Outcome> {
  const started = performance.now();
  console.log(`\n━━━ ${step.name} ━━━`);
  if (step.junit) {
    await Deno.remove(step.junit).catch(() => {});
    await Deno.mkdir(step.junit.replace(/\/[^/]*$/, ""), { recursive: true });
  }
  const env: Record<string, string> = {};
  if (!Deno.stdout.isTerminal()) env.NO_COLOR = "1";
  const child = new Deno.Command(DENO, {
    args: step.args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const timer = setTimeout(() => {
    console.error(`✖ ${step.name} ran for over ${STEP_TIMEOUT_MS / 60_000} minutes: killed`);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, STEP_TIMEOUT_MS);
  let output = "";
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    const reader = stream.getReader();
    readers.push(reader);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writeAll(sink, value);
        output += decoder.decode(value, { stream: true });
      }
    } catch {
      // Cancelled: a process the step left behind still held the pipe.
    }
    output += decoder.decode();
  };
  const pumps = Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const status = await child.status;
  clearTimeout(timer);
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    pumps.then(() => true),
    new Promise<boolean>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), DRAIN_MS);
    }),
  ]);
  clearTimeout(drainTimer);
  if (!drained) {
    console.error(`✖ ${step.name}: its output stayed open after it ended (a process left behind?)`);
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
    await pumps;
  }
  const ms = performance.now() - started;

  let counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  const parsed = step.counts ? (await readJunit(step.junit)) ?? parseCounts(output) : null;
  if (parsed) {
    counts = parsed;
    // A test step can fail outside any test (type check, leak, build error): count that too.
    if (status.code !== 0 && counts.failed === 0) counts.failed = 1;
  } else if (status.code === 0) {
    counts.passed = 1;
  } else {
    counts.failed = 1;
  }
  const skips = [...output.replace(ANSI, "").matchAll(/^SKIPPED: (.*)$/gm)].map((m) => m[1]!);
  return { name: step.name, code: status.code, ms, skips, ...counts };
}

async function writeAll(sink: typeof Deno.stdout, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) written += await sink.write(chunk.subarray(written));
}

if (import.meta.main) {
  const started = performance.now();
  const outcomes: Outcome[] = [];
  for (const step of steps) outcomes.push(await runStep(step));

  console.log("\n━━━ summary ━━━");
  for (const o of outcomes) {
    const mark = o.code === 0 ? "✔" : "✖";
    const skipped = o.skipped ? `, ${o.skipped} skipped` : "";
    console.log(
      `${mark} ${o.name.padEnd(46)} ${o.passed} passed, ${o.failed} failed${skipped}` +
        `  (${(o.ms / 1000).toFixed(1)} s${o.code === 0 ? "" : `, exit ${o.code}`})`,
    );
  }
  for (const o of outcomes) for (const reason of o.skips) console.log(`SKIPPED: ${reason}`);
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(
    `ci${FULL ? ":full" : ""} finished in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed > 0 ? 1 : 0);
}
