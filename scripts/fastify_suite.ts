/**
 * Runs Fastify's own test suite twice under Node, bare and with `fastifyGoGoScope` registered on
 * every Fastify instance the tests create, and fails on any test whose outcome differs, unless
 * `scripts/fastify_suite_expected.ts` lists it with a reason.
 *
 * ```sh
 * deno task fastify-suite                        # what CI runs
 * deno task fastify-suite --only=hooks,close     # test files whose path contains a word
 * deno task fastify-suite --reuse-build          # keep npm/ as it is (no build_npm.ts)
 * deno task fastify-suite --update-lock          # re-resolve the test dependencies
 * ```
 *
 * - The Fastify is the version `deno.lock` resolves, fetched with `npm pack` (its tarball ships
 *   `test/`) and checked against the lock's integrity. Its runtime dependencies and the
 *   devDependencies its tests import are installed with `npm ci` from the committed
 *   `scripts/fastify_suite_lock.json`, into `.tmp/fastify-suite/package/`.
 * - The plugin comes from the npm build (`scripts/build_npm.ts`), copied into that package's
 *   `node_modules/`. Fastify's `fastify.js` gets a few lines appended that, when
 *   `GGS_FASTIFY_SUITE_SCOPED=1`, wrap its exported factory: every root instance registers the
 *   plugin once, right after it is created, for `require()` and `import` alike.
 * - Each test file runs as `node --test --test-reporter=tap --test-timeout=<ms> <file>`, as
 *   Fastify's `borp` runs it (node:test in a child process per file). On Node 20 the runner's
 *   timeout bounds the whole file (borp's is 30 s): `--file-timeout` (60 s), so that a hanging test
 *   fails its file and leaves the tests before it reported. The file's process group is killed
 *   30 s later if it is still there (recorded as a hang). `--concurrency` files run at once (2).
 * - Files with an unexpected difference are run again, both ways: a difference that does not
 *   repeat is printed as flaky and not counted.
 *
 * Prints `SKIPPED: <reason>` and exits 0 when the npm registry cannot be reached. The TAP and
 * stderr of every file land in `.tmp/fastify-suite/results/`, the comparison in `summary.json`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { EXPECTED } from "./fastify_suite_expected.ts";
import {
  compareFile,
  countOutcomes,
  type Difference,
  type FileRun,
  parseTap,
} from "./fastify_suite_tap.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    concurrency: { type: "string", default: "2" },
    "file-timeout": { type: "string", default: "60" },
    only: { type: "string", default: "" },
    // The plugin's options as JSON, e.g. '{"connectionCloseOnShutdown":false}'.
    "plugin-options": { type: "string", default: "{}" },
    "reuse-build": { type: "boolean", default: false },
    "update-lock": { type: "boolean", default: false },
  },
  strict: true,
});

const ROOT = resolve(import.meta.dirname!, "..");
const WORK = join(ROOT, ".tmp", "fastify-suite");
const PKG = join(WORK, "package");
const RESULTS = join(WORK, "results");
const LOCKFILE = join(ROOT, "scripts", "fastify_suite_lock.json");
const PLUGIN = "@go-go-scope/adapter-fastify";
const SCOPED_ENV = "GGS_FASTIFY_SUITE_SCOPED";
const CONCURRENCY = positive("concurrency");
/** The runner's limit for one file (Node 20's `--test-timeout`). */
const FILE_TIMEOUT_S = positive("file-timeout");
/** When a file's process group still runs, this long after the runner's limit, it is killed. */
const KILL_AFTER_S = FILE_TIMEOUT_S + 30;

/**
 * The devDependencies of Fastify that its `test/**\/*.test.{js,mjs}` files and their helpers
 * import (the linters, type checkers and benchmark tools are left out).
 */
const TEST_DEPENDENCIES = [
  "ajv",
  "ajv-errors",
  "ajv-formats",
  "ajv-i18n",
  "ajv-merge-patch",
  "fast-json-body",
  "fastify-plugin",
  "fluent-json-schema",
  "h2url",
  "http-errors",
  "joi",
  "JSONStream",
  "node-forge",
  "proxyquire",
  "split2",
  "undici",
  "vary",
  "yup",
];

/** Test files not run, and why. */
const EXCLUDED: Record<string, string> = {
  "test/build/error-serializer.test.js":
    "lints Fastify's generated serializer with ESLint and neostandard; creates no instance",
};

/** Appended to Fastify's `fastify.js`; inert unless the scoped pass sets the variable. */
const PATCH = `
// Added by go-go-scope's suite check: with ${SCOPED_ENV}=1 every instance registers the plugin.
if (process.env.${SCOPED_ENV} === '1') {
  const bare = module.exports
  const { fastifyGoGoScope } = require('${PLUGIN}')
  const scoped = function fastify (...args) {
    const app = bare(...args)
    app.register(fastifyGoGoScope, JSON.parse(process.env.${SCOPED_ENV}_OPTIONS || '{}'))
    return app
  }
  Object.assign(scoped, bare, { fastify: scoped, default: scoped })
  module.exports = scoped
}
`;

class Skip extends Error {}
class SuiteError extends Error {}

function positive(name: "concurrency" | "file-timeout"): number {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < 1) {
    throw new TypeError(`Cannot run the suite: "--${name}" must be a positive integer`);
  }
  return n;
}

function step(message: string): void {
  console.log(`\n▶ ${message}`);
}

/** Runs a command; returns its exit code and output (streamed too when `show`). */
async function run(
  cmd: string,
  args: string[],
  { cwd = ROOT, show = false } = {},
): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: show ? "inherit" : "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  const err = decode(output.stderr);
  if (show) await Deno.stderr.write(output.stderr);
  return { code: output.code, out: (show ? "" : decode(output.stdout)) + err };
}

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/;

/** Runs an npm command; an unreachable registry becomes a `Skip`, any other failure an error. */
async function npm(args: string[], cwd: string): Promise<string> {
  const { code, out } = await run("npm", args, { cwd });
  if (code === 0) return out;
  if (NETWORK.test(out)) throw new Skip(`npm cannot reach the registry (npm ${args[0]}): ${out}`);
  throw new SuiteError(`npm ${args.join(" ")} failed (exit ${code}) in ${cwd}:\n${out}`);
}

// ---------------------------------------------------------------------------------------------
// Setup

/** The Fastify version and tarball integrity that deno.lock resolves `fastify` to. */
async function lockedFastify(): Promise<{ version: string; integrity: string }> {
  const denoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const lock = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.lock")));
  const version: string | undefined = lock.specifiers?.[denoJson.imports.fastify];
  const integrity: string | undefined = lock.npm?.[`fastify@${version}`]?.integrity;
  if (!version || !integrity) {
    throw new SuiteError(`deno.lock resolves no "${denoJson.imports.fastify}" with an integrity`);
  }
  return { version, integrity };
}

async function sha512(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", await Deno.readFile(path));
  return `sha512-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory) await copyDir(source, target);
    else await Deno.copyFile(source, target);
  }
}

/** Fetches, unpacks and installs Fastify with its test dependencies; appends the patch. */
async function setUp(): Promise<string> {
  const { version, integrity } = await lockedFastify();
  const tarball = join(WORK, `fastify-${version}.tgz`);
  await Deno.mkdir(WORK, { recursive: true });
  if (!(await exists(tarball)) || (await sha512(tarball)) !== integrity) {
    step(`npm pack fastify@${version}`);
    await npm(["pack", `fastify@${version}`, "--pack-destination", WORK], WORK);
  }
  if ((await sha512(tarball)) !== integrity) {
    throw new SuiteError(`${relative(ROOT, tarball)} does not match deno.lock's integrity`);
  }

  step(`Unpacking fastify ${version} into ${relative(ROOT, PKG)}/`);
  await Deno.remove(PKG, { recursive: true }).catch(() => {});
  const untar = await run("tar", ["-xzf", tarball, "-C", WORK]);
  if (untar.code !== 0) throw new SuiteError(`tar failed: ${untar.out}`);
  const pkgJson = JSON.parse(await Deno.readTextFile(join(PKG, "package.json")));
  const dev: Record<string, string> = {};
  for (const name of TEST_DEPENDENCIES) {
    dev[name] = pkgJson.devDependencies?.[name] ??
      fail(`fastify ${version} has no devDependency "${name}": update TEST_DEPENDENCIES`);
  }
  pkgJson.devDependencies = dev;
  delete pkgJson.scripts;
  await Deno.writeTextFile(join(PKG, "package.json"), JSON.stringify(pkgJson, null, 2) + "\n");

  const lockVersion = (await exists(LOCKFILE))
    ? JSON.parse(await Deno.readTextFile(LOCKFILE)).version
    : null;
  if (flags["update-lock"] || lockVersion === null) {
    step("npm install --package-lock-only (writes scripts/fastify_suite_lock.json)");
    await npm(
      ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
      PKG,
    );
    await Deno.copyFile(join(PKG, "package-lock.json"), LOCKFILE);
  } else if (lockVersion !== version) {
    fail(
      `scripts/fastify_suite_lock.json is for fastify ${lockVersion}, deno.lock has ${version}: run with --update-lock`,
    );
  }
  await Deno.copyFile(LOCKFILE, join(PKG, "package-lock.json"));
  step(`npm ci (fastify's dependencies and ${TEST_DEPENDENCIES.length} test dependencies)`);
  await npm(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], PKG);

  if (!flags["reuse-build"] || !(await exists(join(ROOT, "npm", "cjs", "mod.js")))) {
    step("Building npm/ (scripts/build_npm.ts)");
    const build = await run(
      Deno.execPath(),
      ["run", "--config", "deno.dev.json", "-A", "scripts/build_npm.ts"],
      { show: true },
    );
    if (build.code !== 0) throw new SuiteError(`scripts/build_npm.ts failed (exit ${build.code})`);
  }
  const installed = join(PKG, "node_modules", ...PLUGIN.split("/"));
  await Deno.mkdir(installed, { recursive: true });
  await Deno.copyFile(join(ROOT, "npm", "package.json"), join(installed, "package.json"));
  await copyDir(join(ROOT, "npm", "cjs"), join(installed, "cjs"));
  await copyDir(join(ROOT, "npm", "esm"), join(installed, "esm"));
  await Deno.writeTextFile(join(PKG, "fastify.js"), PATCH, { append: true });
  return version;
}

function fail(message: string): never {
  throw new SuiteError(message);
}

async function testFiles(dir = join(PKG, "test")): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && entry.name !== "node_modules") files.push(...await testFiles(path));
    else if (entry.isFile && /\.test\.m?js$/.test(entry.name)) files.push(relative(PKG, path));
  }
  return files.sort();
}

// ---------------------------------------------------------------------------------------------
// Running

type Mode = "bare" | "scoped";

/** Runs one test file in its own process group; kills the group at the time limit. */
async function runFile(file: string, mode: Mode): Promise<FileRun> {
  const started = performance.now();
  const args = ["node", "--test", "--test-reporter=tap", `--test-timeout=${FILE_TIMEOUT_S * 1000}`];
  const child = new Deno.Command("setsid", {
    args: [...args, file],
    cwd: PKG,
    env: {
      NO_COLOR: "1",
      [SCOPED_ENV]: mode === "scoped" ? "1" : "0",
      [`${SCOPED_ENV}_OPTIONS`]: JSON.stringify(JSON.parse(flags["plugin-options"])),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killGroup = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* the group is gone */ }
  };
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    killGroup();
  }, KILL_AFTER_S * 1000);
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const status = await child.status;
  clearTimeout(timer);
  killGroup(); // whatever the tests left running
  const [tap, err] = await Promise.all([stdout, stderr]);
  const out = join(RESULTS, mode, file);
  await Deno.mkdir(resolve(out, ".."), { recursive: true });
  await Deno.writeTextFile(`${out}.tap`, tap);
  await Deno.writeTextFile(`${out}.stderr`, err);
  return {
    file,
    end: hung ? { kind: "hang", seconds: KILL_AFTER_S } : { kind: "exit", code: status.code },
    ms: performance.now() - started,
    tests: parseTap(tap, join(PKG, file)),
  };
}

/** Runs the files, `CONCURRENCY` at a time; returns the runs and the wall time. */
async function runPass(files: string[], mode: Mode): Promise<{ runs: FileRun[]; ms: number }> {
  const started = performance.now();
  const queue = [...files];
  const runs: FileRun[] = [];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const r = await runFile(file, mode);
      runs.push(r);
      const failed = [...r.tests.values()].filter((t) => t.outcome === "fail").length;
      const end = r.end.kind === "hang" ? "HANG" : r.end.code === 0 ? "" : `exit ${r.end.code}`;
      if (failed || end) {
        console.log(`  ${mode} ${file}: ${failed} failed ${end} (${(r.ms / 1000).toFixed(1)} s)`);
      }
      if (runs.length % 25 === 0) console.log(`  ${mode}: ${runs.length}/${files.length} files`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  runs.sort((a, b) => a.file < b.file ? -1 : 1);
  return { runs, ms: performance.now() - started };
}

function compareAll(bare: FileRun[], scoped: FileRun[]): Difference[] {
  const byFile = new Map(scoped.map((r) => [r.file, r]));
  return bare.flatMap((b) => compareFile(b, byFile.get(b.file)!));
}

// ---------------------------------------------------------------------------------------------
// Reporting

const key = (d: { file: string; test: string }) => `${d.file} :: ${d.test}`;

function table(title: string, rows: Difference[], note: (d: Difference) => string): void {
  console.log(`\n${title} (${rows.length})`);
  for (const d of rows) {
    console.log(`  ${d.file} :: ${d.test.replace(/\n/g, "\\n")}`);
    console.log(`      bare ${d.bare}, scoped ${d.scoped}${note(d) ? `: ${note(d)}` : ""}`);
  }
}

async function main(): Promise<number> {
  const version = await setUp();
  const all = await testFiles();
  const words = flags.only.split(",").map((w) => w.trim()).filter(Boolean);
  const files = all.filter((f) => !(f in EXCLUDED))
    .filter((f) => words.length === 0 || words.some((w) => f.includes(w)));
  for (const [file, why] of Object.entries(EXCLUDED)) console.log(`(not run: ${file}: ${why})`);
  await Deno.remove(RESULTS, { recursive: true }).catch(() => {});

  const node = (await run("node", ["--version"])).out.trim();
  if (!node.startsWith("v20.")) {
    console.log(`(node ${node}: from Node 22 on, --test-timeout bounds each test, not each file)`);
  }
  step(
    `bare pass: ${files.length} files of fastify ${version}, node ${node}, ${CONCURRENCY} at once`,
  );
  const bare = await runPass(files, "bare");
  step(`scoped pass: the same files with fastifyGoGoScope on every instance`);
  const scoped = await runPass(files, "scoped");
  const first = compareAll(bare.runs, scoped.runs);
  const expected = new Map(EXPECTED.map((e) => [key(e), e]));

  // An unexpected difference counts when it repeats: its file runs again, both ways.
  const again = [...new Set(first.filter((d) => !expected.has(key(d))).map((d) => d.file))];
  let confirmed = first;
  let flaky: Difference[] = [];
  if (again.length) {
    step(`Running the ${again.length} files with an unexpected difference again, both ways`);
    const second = new Set(
      compareAll((await runPass(again, "bare")).runs, (await runPass(again, "scoped")).runs)
        .map(key),
    );
    const repeats = (d: Difference) => !again.includes(d.file) || second.has(key(d));
    confirmed = first.filter(repeats);
    flaky = first.filter((d) => !repeats(d));
  }

  const unexpected = confirmed.filter((d) => !expected.has(key(d)));
  const seen = confirmed.filter((d) => expected.has(key(d)));
  const unseen = EXPECTED.filter((e) => !confirmed.some((d) => key(d) === key(e)));

  table("Expected differences", seen, (d) => expected.get(key(d))!.why);
  if (flaky.length) {
    table("Differences that did not repeat (flaky, not counted)", flaky, (d) => d.detail);
  }
  if (unseen.length) {
    console.log(`\nExpected differences not seen this time (${unseen.length}): fixed or renamed?`);
    for (const e of unseen) console.log(`  ${e.file} :: ${e.test}`);
  }
  table("UNEXPECTED differences", unexpected, (d) => d.detail);

  const counts = (runs: FileRun[]) => {
    const c = countOutcomes(runs);
    const hangs = runs.filter((r) => r.end.kind === "hang").length;
    return `${c.pass} pass, ${c.fail} fail, ${c.skip + c.todo} skip/todo${
      hangs ? `, ${hangs} hung files` : ""
    }`;
  };
  const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
  console.log(
    `\nfastify ${version} on node ${node}, ${files.length} files, ${CONCURRENCY} at once`,
  );
  console.log(`  bare:   ${counts(bare.runs)} (${secs(bare.ms)})`);
  console.log(`  scoped: ${counts(scoped.runs)} (${secs(scoped.ms)})`);
  console.log(
    `  ${seen.length} expected, ${unexpected.length} unexpected, ${flaky.length} flaky differences`,
  );

  await Deno.writeTextFile(
    join(WORK, "summary.json"),
    JSON.stringify(
      {
        fastify: version,
        node,
        files: files.length,
        concurrency: CONCURRENCY,
        seconds: { bare: bare.ms / 1000, scoped: scoped.ms / 1000 },
        unexpected,
        expected: seen,
        flaky,
        fileSeconds: bare.runs.map((r, i) => ({
          file: r.file,
          bare: r.ms / 1000,
          scoped: scoped.runs[i]!.ms / 1000,
        })),
      },
      null,
      2,
    ) + "\n",
  );
  return unexpected.length ? 1 : 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  if (e instanceof Skip) {
    console.log(`SKIPPED: ${e.message.split("\n")[0]}`);
    Deno.exit(0);
  }
  if (!(e instanceof SuiteError)) throw e;
  console.error(`\n✖ fastify_suite: ${e.message}`);
  Deno.exit(1);
}
