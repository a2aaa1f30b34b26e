/**
 * Reads the per-test outcomes of one `node --test --test-reporter=tap` run of one test file, and
 * compares two runs of a file test by test.
 *
 * @module
 */

/** What became of one test. `missing`: the file never reported it (it crashed or hung first). */
export type Outcome = "pass" | "fail" | "skip" | "todo" | "missing";

/** One test of a file: its outcome and, when it failed, the first lines of the reason. */
export interface TestResult {
  outcome: Outcome;
  detail: string;
}

/** How a file's process ended: its exit code, or `hang` when it was killed at the time limit. */
export type FileEnd = { kind: "exit"; code: number } | { kind: "hang"; seconds: number };

/** One run of one file. Tests are keyed by their path of names, `parent > child`. */
export interface FileRun {
  file: string;
  end: FileEnd;
  ms: number;
  tests: Map<string, TestResult>;
}

/** A test whose outcome is not the same in the two runs. */
export interface Difference {
  file: string;
  /** The test's path of names; `(file)` for the runner's test of the file, `(process)` for its end. */
  test: string;
  bare: string;
  scoped: string;
  /** Why the scoped run's test failed (or the bare one's, when only that one failed). */
  detail: string;
}

/** The runner's own test for a file: it fails when the file times out or throws outside a test. */
export const FILE_TEST = "(file)";
/** The pseudo-test that stands for the way a file's process ended (exit code, killed). */
export const PROCESS = "(process)";

const RESULT = /^( *)(ok|not ok) \d+ - ?(.*?)(?: # (SKIP|TODO)\b.*)?$/i;
const SUBTEST = /^( *)# Subtest: (.*)$/;

/** Node's TAP reporter escapes `\`, `#` and line breaks in names. */
function unescape(name: string): string {
  return name.replace(/\\([\\#nr])/g, (_m, c: string) => c === "n" ? "\n" : c === "r" ? "\r" : c);
}

/**
 * The per-test outcomes of a TAP stream (Node's reporter: four spaces of indent per level). The
 * runner's test named after the file's absolute path (`filePath`) is keyed `(file)`.
 */
export function parseTap(tap: string, filePath: string): Map<string, TestResult> {
  const tests = new Map<string, TestResult>();
  const names: string[] = [];
  const lines = tap.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const subtest = line.match(SUBTEST);
    if (subtest) {
      const depth = subtest[1]!.length / 4;
      names.length = depth;
      names[depth] = unescape(subtest[2]!);
      continue;
    }
    const result = line.match(RESULT);
    if (!result) continue;
    const depth = result[1]!.length / 4;
    if (!Number.isInteger(depth)) continue;
    const name = unescape(result[3]!);
    const path = depth === 0 && name === filePath
      ? FILE_TEST
      : [...names.slice(0, depth), name].join(" > ");
    names.length = depth;
    const directive = result[4]?.toUpperCase();
    const outcome: Outcome = directive === "SKIP"
      ? "skip"
      : directive === "TODO"
      ? "todo"
      : result[2] === "ok"
      ? "pass"
      : "fail";
    let detail = "";
    if (outcome === "fail") {
      // The YAML block under the result: keep the lines that say what went wrong.
      const indent = result[1]!.length + 2;
      const block: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const yaml = lines[j]!;
        if (yaml.trim() === "---") continue;
        if (yaml.trim() === "..." || !yaml.startsWith(" ".repeat(indent))) break;
        block.push(yaml.slice(indent));
      }
      detail = summarize(block);
    }
    let key = path;
    for (let n = 2; tests.has(key); n++) key = `${path} [${n}]`;
    tests.set(key, { outcome, detail });
  }
  return tests;
}

/** The failure type, error message and values of a failed test's YAML block, on one line. */
function summarize(block: string[]): string {
  const unquote = (v: string) => v.replace(/^'(.*)'$/, "$1");
  /** A field's inline value, or the lines of its block scalar. */
  const field = (name: string): string[] => {
    const at = block.findIndex((l) => l.startsWith(`${name}:`));
    if (at < 0) return [];
    const inline = block[at]!.slice(name.length + 1).trim();
    if (!/^(\|-?|>-?)?$/.test(inline)) return [unquote(inline)];
    const lines: string[] = [];
    for (const l of block.slice(at + 1)) {
      if (!l.startsWith("  ")) break;
      if (l.trim()) lines.push(l.trim());
    }
    return lines;
  };
  const error = field("error");
  const message = (error[0] ?? "").replace(/:$/, "");
  const code = field("code")[0] ?? "";
  const [actual, expected] = [field("actual"), field("expected")];
  // assert's diff lines (`+ actual` / `- expected`) say what differed.
  const diff = error.slice(1).filter((l) => /^[+-] /.test(l) && l !== "+ actual - expected");
  const values = actual.length === 1 && expected.length === 1
    ? `actual ${actual[0]}, expected ${expected[0]}`
    : diff.slice(0, 4).join(" ");
  return [field("failureType")[0], message, values, code && !message.includes(code) ? code : ""]
    .filter(Boolean).join(": ").slice(0, 300);
}

function describeEnd(end: FileEnd): string {
  return end.kind === "hang" ? `hang (killed after ${end.seconds} s)` : `exit ${end.code}`;
}

/**
 * The tests of a file whose outcome differs between the bare and the scoped run. A parent that
 * differs only because a child does is left out; the file's own end is listed only when no test
 * tells the difference (a crash after the tests, a leaked handle, a hang).
 */
export function compareFile(bare: FileRun, scoped: FileRun): Difference[] {
  const keys = new Set([...bare.tests.keys(), ...scoped.tests.keys()]);
  const missing: TestResult = { outcome: "missing", detail: "" };
  const differing: Difference[] = [];
  for (const test of keys) {
    const b = bare.tests.get(test) ?? missing;
    const s = scoped.tests.get(test) ?? missing;
    if (b.outcome === s.outcome) continue;
    differing.push({
      file: bare.file,
      test,
      bare: b.outcome,
      scoped: s.outcome,
      detail: s.outcome === "fail" ? s.detail : b.detail,
    });
  }
  const leaves = differing.filter((d) =>
    !differing.some((other) => other.test.startsWith(`${d.test} > `))
  );
  const bareEnd = describeEnd(bare.end);
  const scopedEnd = describeEnd(scoped.end);
  if (bareEnd !== scopedEnd && (leaves.length === 0 || scoped.end.kind === "hang")) {
    leaves.push({ file: bare.file, test: PROCESS, bare: bareEnd, scoped: scopedEnd, detail: "" });
  }
  return leaves;
}

/** Counts a run's tests by outcome. */
export function countOutcomes(runs: Iterable<FileRun>): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, skip: 0, todo: 0, missing: 0 };
  for (const run of runs) for (const t of run.tests.values()) counts[t.outcome]++;
  return counts;
}
