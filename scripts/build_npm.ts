/**
 * Builds the npm package from the Deno sources with `tsc`, and proves it works under Node.
 *
 * ```sh
 * deno task build:npm                          # npm/: ESM + CommonJS + .d.ts + package.json
 * deno task test:node                          # ...and the test suite under `node --test`
 * deno run --config deno.dev.json -A scripts/build_npm.ts --test --pack   # what CI runs
 * ```
 *
 * The compiler does the compiling (`scripts/npm/tsconfig.{esm,cjs,test}.json`, with
 * `rewriteRelativeImportExtensions`); this script does what no tool does:
 *
 * - writes `npm/package.json` from `deno.json` (name, version, exports, dependencies, metadata);
 * - copies the hand-written `.d.ts` files (the Fastify augmentation) and turns the `.ts`
 *   specifiers of every declaration file into `.js` (TypeScript keeps them as written);
 * - with `--pack`: packs the tarball, runs `publint` and `@arethetypeswrong/cli` on it, installs it
 *   into a fresh project, and runs there the smoke tests, the README's CommonJS example and Node
 *   quick start (a server it sends requests to), the consumer type checks on each TypeScript the
 *   project has, the `tstyche` type tests (`tests/types/`), and, with `--test`, the Node suite on
 *   each Node of `--node` (exact releases: `NODE_RELEASES`);
 * - without `--pack`, `--test` runs the Node suite once, on the machine's `node`, against `npm/`,
 *   with the packages of `node_modules/` (Deno's, installed from deno.dev.lock).
 *
 * Everything it installs is pinned: `node_modules/` by deno.dev.lock (`deno install
 * --frozen-lockfile`), Node's types by `scripts/npm/node_types/package-lock.json`, the consumer
 * project by `scripts/consumer/package-lock.json` (`npm ci`; the tarball is then added with
 * `--no-save`), whose runtime packages must be deno.dev.lock's versions (checked here). To change a
 * version: edit `scripts/consumer/package.json`, then run `npm install --package-lock-only` there.
 *
 * Flags: `--test`, `--pack`, `--keep` (keep the consumer project), `--node=20,22,24`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join, relative, resolve } from "node:path";

import { NODE_RELEASES } from "./npm/node_releases.ts";
const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    test: { type: "boolean", default: false },
    pack: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    node: { type: "string", default: "20,22,24" },
  },
  strict: true,
});

const ROOT = resolve(import.meta.dirname!, "..");
const OUT = join(ROOT, "npm");
const ESM = join(OUT, "esm");
const CJS = join(OUT, "cjs");
const TEST_ESM = join(OUT, "test-esm");
const TSCONFIGS = join(ROOT, "scripts", "npm");
const CONSUMER_FIXTURES = join(ROOT, "scripts", "consumer");
const TYPE_TESTS = join(ROOT, "tests", "types");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
/**
 * Node's types for the compiler (Fastify's declarations import `node:http`), matching the oldest
 * Node we support: `npm ci` of `scripts/npm/node_types/` into `.tmp/node-types/`, rather than
 * declared in deno.dev.json (a `node_modules/@types/node` makes Deno's own tools read it and warn
 * about it).
 */
const NODE_TYPES_LOCK = join(ROOT, "scripts", "npm", "node_types");
const NODE_TYPES_DIR = join(ROOT, ".tmp", "node-types");
/** Node majors the packed package is tested on (the machine's own `node` for its major). */
const NODE_VERSIONS = flags.node.split(",").map((v) => v.trim()).filter(Boolean);
/**
 * The consumer project's TypeScripts (`scripts/consumer/package.json`): the oldest supported and
 * the current ones, installed as `typescript`, `typescript-1` and `typescript-2`.
 */
const CONSUMER_TYPESCRIPTS = ["typescript", "typescript-1", "typescript-2"];
const REPOSITORY = "https://github.com/thelinuxlich/go-go-scope";

interface DenoJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  exports: string | Record<string, string>;
  imports?: Record<string, string>;
}

class BuildError extends Error {}

function fail(message: string): never {
  throw new BuildError(message);
}

function step(message: string): void {
  console.log(`\n▶ ${message}`);
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

async function listFiles(dir: string, test: (path: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  if (!(await exists(dir))) return out;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(path, test));
    else if (entry.isFile && test(path)) out.push(path);
  }
  return out.sort();
}

/** Runs a command with inherited output; returns its exit code (killing it after `timeoutMs`). */
async function run(
  cmd: string,
  args: string[],
  { cwd = ROOT, timeoutMs = 10 * 60_000 }: { cwd?: string; timeoutMs?: number } = {},
): Promise<number> {
  const child = new Deno.Command(cmd, { args, cwd, stdin: "null" }).spawn();
  const timer = setTimeout(() => {
    console.error(`✖ ${cmd} ${args.join(" ")} took over ${timeoutMs} ms: killed`);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  return status.code;
}

async function mustRun(cmd: string, args: string[], cwd = ROOT): Promise<void> {
  const code = await run(cmd, args, { cwd });
  if (code !== 0) fail(`${cmd} ${args.join(" ")} failed (exit ${code}) in ${cwd}`);
}

/** Runs a command and returns its stdout; fails with its output on a non-zero exit. */
async function capture(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdin: "null" }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    fail(`${cmd} ${args.join(" ")} failed (exit ${out.code}) in ${cwd}:\n${stdout}${stderr}`);
  }
  return stdout;
}

/** `npm ci` in `cwd` (its package.json and package-lock.json): exactly the locked versions. */
const npmCi = (cwd: string) =>
  mustRun("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd);

// ---------------------------------------------------------------------------------------------
// deno.json

const denoJson: DenoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
/** Dev-only imports (typescript, test libraries) live in deno.dev.json. */
const devJson: { imports?: Record<string, string> } = JSON.parse(
  await Deno.readTextFile(join(ROOT, "deno.dev.json")),
);
const exportMap: Record<string, string> = typeof denoJson.exports === "string"
  ? { ".": denoJson.exports }
  : denoJson.exports;

/** The semver range of an `npm:` import (`npm:fastify@^5.6.0` gives `^5.6.0`). */

function npmRange(name: string): string {
  const target = denoJson.imports?.[name] ?? devJson.imports?.[name];
  const match = target?.match(/^npm:(@?[^@]+)@(.+)$/);
  if (!match || match[1] !== name) {
    fail(`deno.json / deno.dev.json "imports" has no "${name}": "npm:${name}@<range>" entry`);
  }
  return match[2]!;
}

// ---------------------------------------------------------------------------------------------
// The build

/** Library code must load on Node: no inline npm:/jsr:/URL specifiers, no Deno global. */
async function checkSourceRules(files: string[]): Promise<void> {
  const problems: string[] = [];
  const rules: [RegExp, string][] = [
    [
      /\bfrom\s*["'](npm:|jsr:|https?:)|\bimport\s*\(\s*["'](npm:|jsr:|https?:)/,
      "inline specifier",
    ],
    [/(?<![.\w"'])Deno\.\w/, "the Deno global"],
  ];
  for (const file of files) {
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines.forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments and JSDoc examples
      for (const [rule, what] of rules) {
        if (rule.test(line)) {
          problems.push(`${relative(ROOT, file)}:${i + 1}: ${what}: ${line.trim()}`);
        }
      }
    });
  }
  if (problems.length) fail(`Library code that cannot run on Node:\n  ${problems.join("\n  ")}`);
}

/** `./x.ts` → `./x.js` in a declaration file's specifiers (and reference directives). */
function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|<reference\s+(?:types|path)=)(["'])(\.\.?\/[^"'\n]*?)\.(d\.)?(m|c)?ts\2/g,
    (_m, lead: string, q: string, path: string, d = "", mc = "") =>
      `${lead}${q}${path}.${d}${mc}${d ? "ts" : "js"}${q}`,
  );
}

/** Copies the hand-written `.d.ts` files of src/ and fixes the specifiers of every `.d.ts`. */
async function finishDeclarations(outDir: string): Promise<void> {
  for (const source of await listFiles(join(ROOT, "src"), (p) => p.endsWith(".d.ts"))) {
    const target = join(outDir, relative(ROOT, source));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(source, target);
  }
  for (const file of await listFiles(outDir, (p) => p.endsWith(".d.ts"))) {
    const text = await Deno.readTextFile(file);
    const fixed = rewriteDeclarationSpecifiers(text);
    if (fixed !== text) await Deno.writeTextFile(file, fixed);
  }
}

function distPath(dir: "esm" | "cjs", source: string, ext: ".js" | ".d.ts"): string {
  return `./${dir}/${source.replace(/^\.\//, "").replace(/\.ts$/, ext)}`;
}

async function writePackageJson(): Promise<void> {
  const exportsField: Record<string, unknown> = {};
  const typesVersions: Record<string, string[]> = {};
  for (const [key, source] of Object.entries(exportMap)) {
    exportsField[key] = {
      import: { types: distPath("esm", source, ".d.ts"), default: distPath("esm", source, ".js") },
      require: { types: distPath("cjs", source, ".d.ts"), default: distPath("cjs", source, ".js") },
    };
    // moduleResolution "node10" ignores "exports": point it at the subpaths' types.
    if (key !== ".") typesVersions[key.replace(/^\.\//, "")] = [distPath("cjs", source, ".d.ts")];
  }
  exportsField["./package.json"] = "./package.json";
  const main = exportMap["."] ?? fail(`deno.json "exports" has no "." entry`);
  const pkg = {
    name: denoJson.name,
    version: denoJson.version,
    description: denoJson.description,
    license: denoJson.license,
    author: "go-go-scope contributors",
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    homepage: `${REPOSITORY}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    keywords: [
      "fastify",
      "fastify-plugin",
      "structured-concurrency",
      "cancellation",
      "abortsignal",
      "timeout",
      "retry",
      "circuit-breaker",
      "server-sent-events",
      "deno",
    ],
    type: "module",
    main: distPath("cjs", main, ".js"),
    module: distPath("esm", main, ".js"),
    types: distPath("cjs", main, ".d.ts"),
    exports: exportsField,
    ...(Object.keys(typesVersions).length ? { typesVersions: { "*": typesVersions } } : {}),
    files: ["esm/", "cjs/", "README.md", "LICENSE", "CHANGELOG.md"],
    sideEffects: false,
    engines: { node: ">=20.4" },
    dependencies: {
      "fastify-plugin": npmRange("fastify-plugin"),
      // The virtual clock of the "./testing" export (only that entry point loads it).
      "@sinonjs/fake-timers": npmRange("@sinonjs/fake-timers"),
    },
    peerDependencies: {
      // The README's compatibility table names the same range.
      fastify: npmRange("fastify"),
      "@fastify/sse": npmRange("@fastify/sse"),
      "@fastify/websocket": npmRange("@fastify/websocket"),
      // RedisAdapter (the "./redis" export) takes an ioredis 5 or 6 client.
      ioredis: "^5.0.0 || ^6.0.0",
      // The `tracing` and `metrics` options (loaded only when one of them is on).
      "@opentelemetry/api": npmRange("@opentelemetry/api"),
    },
    peerDependenciesMeta: {
      "@opentelemetry/api": { optional: true },
      "@fastify/sse": { optional: true },
      "@fastify/websocket": { optional: true },
      ioredis: { optional: true },
    },
  };
  await Deno.writeTextFile(join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE", "CHANGELOG.md"]) {
    await Deno.copyFile(join(ROOT, file), join(OUT, file));
  }
}

/** Links `mod.js` and `src` of the built library into a test tree (replacing compiled copies). */
async function linkLibrary(testRoot: string, esmDir: string): Promise<void> {
  for await (const entry of Deno.readDir(esmDir)) {
    if (entry.name.endsWith(".d.ts")) continue;
    const link = join(testRoot, entry.name);
    if (await exists(link)) await Deno.remove(link, { recursive: true });
    await Deno.symlink(relative(testRoot, join(esmDir, entry.name)), link);
  }
}

// ---------------------------------------------------------------------------------------------
// The packed tarball

const results: { name: string; ok: boolean }[] = [];

/**
 * Runs one check and prints `[check] pass|fail <name>`, which scripts/ci.ts counts as one test.
 * A test suite (`suite: true`) prints `[suite] pass|fail` instead: its tests are counted from the
 * test runner's own summary, so the suite itself is not counted again.
 */
async function check(
  name: string,
  cmd: string,
  args: string[],
  cwd: string,
  { suite = false }: { suite?: boolean } = {},
): Promise<void> {
  step(name);
  const started = performance.now();
  const code = await run(cmd, args, { cwd, timeoutMs: (suite ? 15 : 5) * 60_000 });
  const took = `(${((performance.now() - started) / 1000).toFixed(1)} s)`;
  const tag = suite ? "[suite]" : "[check]";
  console.log(
    code === 0 ? `${tag} pass ${name} ${took}` : `${tag} fail ${name} (exit ${code}) ${took}`,
  );
  results.push({ name, ok: code === 0 });
}

/** The README's ```cjs block (Deno cannot run it, so it is run here under Node). */
async function readmeCommonJs(): Promise<string> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  return readme.match(/```cjs[^\n]*\n([\s\S]*?)```/)?.[1] ?? fail("README.md has no ```cjs block");
}

/** The README's Node quick start: the ```js ignore block that listens (run here as server.mjs). */
async function readmeNodeServer(): Promise<string> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  return [...readme.matchAll(/```js ignore\n([\s\S]*?)```/g)].map((m) => m[1]!)
    .find((block) => block.includes("app.listen(")) ??
    fail("README.md has no ```js ignore block that calls app.listen()");
}

/**
 * Node `major` as a command: the machine's node for its own major, else
 * `npx -y node@<NODE_RELEASES[major]>`.
 */
async function nodeCommand(major: string): Promise<[string, string[]]> {
  const own = (await capture("node", ["--version"], ROOT)).trim().replace(/^v/, "").split(".")[0];
  if (own === major) return ["node", []];
  const release = NODE_RELEASES[major] ??
    fail(`No exact release of Node ${major} in NODE_RELEASES (scripts/build_npm.ts)`);
  return ["npx", ["-y", `node@${release}`]];
}

/** Stops a child process: SIGTERM, SIGKILL after `graceMs`, then at most 5 s more of waiting. */
async function stopProcess(child: Deno.ChildProcess, graceMs = 2_000): Promise<void> {
  const exited = child.status.then(() => true, () => true);
  const within = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  for (const [signal, wait] of [["SIGTERM", graceMs], ["SIGKILL", 5_000]] as const) {
    if (await within(0)) return;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    if (await within(wait)) return;
  }
  console.error(`process ${child.pid} did not exit after SIGKILL; not waiting for it`);
}

/**
 * Runs the README's Node quick start as `server.mjs` in the consumer project and does what the
 * README does with curl: `GET /hello`, then `GET /slow` from a client that leaves after one second,
 * whose work must stop at once (the server logs it).
 */
async function checkNodeQuickStart(project: string): Promise<void> {
  const name = "README's Node quick start (server.mjs: /hello, and /slow stops when curl leaves)";
  step(name);
  const started = performance.now();
  await Deno.writeTextFile(join(project, "server.mjs"), await readmeNodeServer());
  const child = new Deno.Command("node", {
    args: ["server.mjs"],
    cwd: project,
    env: { PORT: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let log = "";
  const reading = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(text) {
        log += text;
        Deno.stdout.writeSync(new TextEncoder().encode(text));
      },
    }),
  ).catch(() => {});
  const waitForLog = async (pattern: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const deadline = performance.now() + ms;
    for (;;) {
      const match = log.match(pattern);
      if (match) return match;
      if (performance.now() > deadline) {
        throw new Error(`no log line matching ${pattern} in ${ms} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  let problem = "";
  try {
    const listening = await waitForLog(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    const origin = listening[1]!;
    const hello = await (await fetch(`${origin}/hello`)).json();
    if (hello?.greeting !== "hello") {
      throw new Error(`GET /hello answered ${JSON.stringify(hello)}`);
    }
    // curl --max-time 1: ask for /slow, and leave after one second.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(origin).port) });
    await conn.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    conn.close();
    await waitForLog(/slow work stopped: ClientDisconnectedError/, 3_000);
  } catch (e) {
    problem = (e as Error).message;
  } finally {
    await stopProcess(child);
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
  const took = `(${((performance.now() - started) / 1000).toFixed(1)} s)`;
  if (problem) console.error(problem);
  console.log(problem ? `[check] fail ${name} ${took}` : `[check] pass ${name} ${took}`);
  results.push({ name, ok: !problem });
}

/**
 * The consumer project's runtime packages (those its tests load) must be the versions Deno tests
 * with: every package of `scripts/consumer/package-lock.json` not marked `dev` must be in
 * deno.dev.lock at that version.
 */
async function checkConsumerLock(): Promise<void> {
  const denoLock: { npm?: Record<string, unknown> } = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.dev.lock")),
  );
  const denoVersions = new Map<string, Set<string>>();
  for (const key of Object.keys(denoLock.npm ?? {})) {
    const m = key.match(/^(@?[^@]+)@([^_]+)/);
    if (!m) continue;
    if (!denoVersions.has(m[1]!)) denoVersions.set(m[1]!, new Set());
    denoVersions.get(m[1]!)!.add(m[2]!);
  }
  const npmLock: { packages: Record<string, { version?: string; dev?: boolean }> } = JSON.parse(
    await Deno.readTextFile(join(CONSUMER_FIXTURES, "package-lock.json")),
  );
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(npmLock.packages)) {
    if (path === "" || entry.dev) continue;
    const name = path.replace(/^.*node_modules\//, "");
    const versions = denoVersions.get(name);
    if (!versions?.has(entry.version ?? "")) {
      problems.push(`${name}@${entry.version} (deno.dev.lock: ${[...versions ?? ["none"]]})`);
    }
  }
  if (problems.length) {
    fail(
      `scripts/consumer/package-lock.json and deno.dev.lock disagree:\n  ${
        problems.join("\n  ")
      }\n` +
        `Pin these in scripts/consumer/package.json (dependencies or overrides), then run ` +
        `\`npm install --package-lock-only\` in scripts/consumer/.`,
    );
  }
}

async function packAndCheck(testFiles: string[] | null): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "ggs-npm-consumer-" });
  try {
    step("npm pack");
    const packed = JSON.parse(
      await capture("npm", ["pack", "--json", "--pack-destination", tmp], OUT),
    )[0] as { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
    const tarball = join(tmp, packed.filename);
    console.log(
      `${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ` +
        `${packed.files.length} files`,
    );

    // The consumer project: its fixtures, exactly the locked packages, then the tarball.
    const project = join(tmp, "project");
    await Deno.mkdir(project);
    for (const dir of [CONSUMER_FIXTURES, TYPE_TESTS]) {
      for (const file of await listFiles(dir, () => true)) {
        await Deno.copyFile(file, join(project, relative(dir, file)));
      }
    }
    const consumer: {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    } = JSON.parse(await Deno.readTextFile(join(project, "package.json")));
    for (const file of testFiles ?? []) {
      for (const m of (await Deno.readTextFile(file)).matchAll(/from\s*["']([^."'][^"']*)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith("node:") || spec.startsWith(denoJson.name)) continue;
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : spec.split("/")[0]!;
        if (!consumer.dependencies?.[name]) {
          fail(
            `${relative(TEST_ESM, file)} imports "${name}", which scripts/consumer/package.json ` +
              `does not list: add it at deno.dev.lock's version, then run ` +
              `\`npm install --package-lock-only\` in scripts/consumer/`,
          );
        }
      }
    }
    step("npm ci (scripts/consumer/package-lock.json), then the tarball with --no-save");
    await npmCi(project);
    await mustRun("npm", [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      tarball,
    ], project);
    await Deno.writeTextFile(join(project, "readme_example.cjs"), await readmeCommonJs());
    const bin = (name: string) => join("node_modules", ".bin", name);

    await check(
      "publint (the packed tarball)",
      "node",
      [bin("publint"), "--strict", tarball],
      project,
    );
    await check(
      "attw (@arethetypeswrong/cli, the packed tarball)",
      "node",
      [bin("attw"), "--format", "table-flipped", tarball],
      project,
    );
    await check("ESM smoke test", "node", ["smoke.mjs"], project);
    await check("CommonJS smoke test", "node", ["smoke.cjs"], project);
    await check("README's CommonJS example", "node", ["readme_example.cjs"], project);
    await checkNodeQuickStart(project);
    // One program per tsconfig.<variant>.json: the ESM and CommonJS faces of the package each
    // augment Fastify's types, so a single program must not see both.
    const tsconfigs = await listFiles(CONSUMER_FIXTURES, (p) => /tsconfig\..+\.json$/.test(p));
    for (const [i, pkg] of CONSUMER_TYPESCRIPTS.entries()) {
      const range = consumer.devDependencies?.[pkg] ??
        fail(`scripts/consumer/package.json has no devDependency "${pkg}"`);
      const version = JSON.parse(
        await Deno.readTextFile(join(project, "node_modules", pkg, "package.json")),
      ).version;
      for (const tsconfig of tsconfigs) {
        const name = tsconfig.split("/").pop()!;
        // The oldest TypeScript checks every resolution mode; the newer ones the two modern ones
        // (TypeScript 6 deprecates and 7 removes moduleResolution "node10").
        if (i > 0 && !/tsconfig\.(bundler|nodenext)\.json$/.test(name)) continue;
        await check(
          `TypeScript ${version} (${range}): tsc -p ${name}`,
          "node",
          [join("node_modules", pkg, "bin", "tsc"), "-p", name],
          project,
        );
      }
    }
    await check(
      "tstyche (exact types of the installed package)",
      "node",
      [bin("tstyche")],
      project,
    );

    if (testFiles) {
      const suite = join(project, "suite");
      for (const file of testFiles) {
        const target = join(suite, relative(TEST_ESM, file));
        await Deno.mkdir(dirname(target), { recursive: true });
        await Deno.copyFile(file, target);
      }
      await linkLibrary(suite, join(project, "node_modules", ...denoJson.name.split("/"), "esm"));
      const tests = testFiles.filter(isTestFile).map((f) => relative(TEST_ESM, f));
      for (const major of NODE_VERSIONS) {
        const [cmd, prefix] = await nodeCommand(major);
        await check(
          `node ${major}: the test suite against the installed package`,
          cmd,
          [
            ...prefix,
            "--test",
            "--test-reporter=spec",
            "--test-timeout=60000",
            ...tests,
          ],
          suite,
          { suite: true },
        );
      }
    }
  } finally {
    if (flags.keep) console.log(`(kept ${tmp})`);
    else await Deno.remove(tmp, { recursive: true });
  }
}

async function copyLocked(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) {
    await Deno.copyFile(join(from, file), join(to, file));
  }
}

function isTestFile(path: string): boolean {
  return /_test\.(m?js|ts)$/.test(path);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  if (!(await exists(TSC))) {
    step(
      "deno install --frozen-lockfile --config deno.dev.json (node_modules/, from deno.dev.lock)",
    );
    await mustRun(Deno.execPath(), ["install", "--frozen-lockfile", "--config", "deno.dev.json"]);
  }
  const typesLock = await Deno.readTextFile(join(NODE_TYPES_LOCK, "package-lock.json"));
  const installedLock = await Deno.readTextFile(join(NODE_TYPES_DIR, "package-lock.json"))
    .catch(() => "");
  if (installedLock !== typesLock) {
    step("npm ci of scripts/npm/node_types/ into .tmp/node-types/ (Node's types for tsc)");
    await copyLocked(NODE_TYPES_LOCK, NODE_TYPES_DIR);
    await npmCi(NODE_TYPES_DIR);
  }
  if (flags.pack) await checkConsumerLock();

  const libraryFiles = [
    join(ROOT, "mod.ts"),
    ...await listFiles(join(ROOT, "src"), (p) => p.endsWith(".ts") && !p.endsWith(".d.ts")),
  ];
  step(`Checking ${libraryFiles.length} library files for Deno-only code`);
  await checkSourceRules(libraryFiles);

  step("tsc: ESM and CommonJS with declarations, to npm/");
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  await mustRun("node", [TSC, "-p", join(TSCONFIGS, "tsconfig.esm.json")]);
  await mustRun("node", [TSC, "-p", join(TSCONFIGS, "tsconfig.cjs.json")]);
  await Deno.writeTextFile(join(CJS, "package.json"), '{\n  "type": "commonjs"\n}\n');
  await finishDeclarations(ESM);
  await finishDeclarations(CJS);
  await writePackageJson();
  console.log(`npm/ built in ${Math.round(performance.now() - started)} ms`);

  let testFiles: string[] | null = null;
  if (flags.test) {
    step("tsc: the tests, to npm/test-esm/");
    await mustRun("node", [TSC, "-p", join(TSCONFIGS, "tsconfig.test.json")]);
    await linkLibrary(TEST_ESM, ESM);
    testFiles = await listFiles(TEST_ESM, (p) => p.endsWith(".js") && !p.includes("/src/"));
    testFiles = testFiles.filter((f) => !relative(TEST_ESM, f).startsWith("mod."));
    if (!flags.pack) {
      const version = (await capture("node", ["--version"], ROOT)).trim();
      await check(
        `node ${version}: the test suite against npm/`,
        "node",
        [
          "--test",
          "--test-reporter=spec",
          "--test-timeout=60000",
          ...testFiles.filter(isTestFile).map((f) => relative(TEST_ESM, f)),
        ],
        TEST_ESM,
        { suite: true },
      );
    }
  }
  if (flags.pack) await packAndCheck(testFiles);

  console.log(`\nbuild_npm finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  if (failed.length) fail(`Failed: ${failed.join(", ")}`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error(`\n✖ build_npm: ${e.message}`);
  Deno.exit(1);
}
