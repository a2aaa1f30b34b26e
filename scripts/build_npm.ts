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
 *   into a fresh project, and runs there the smoke tests, the README's CommonJS example, the
 *   consumer type checks on each TypeScript of `CONSUMER_TYPESCRIPTS`, the `tstyche` type tests
 *   (`tests/types/`), and, with `--test`, the Node suite on each Node of `NODE_VERSIONS`.
 *
 * Flags: `--test`, `--pack`, `--keep` (keep the consumer project), `--node=20,22,24`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join, relative, resolve } from "node:path";

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
 * Node we support. Installed with npm into `.tmp/node-types/` rather than declared in
 * deno.dev.json: a `node_modules/@types/node` makes Deno's own tools read it and warn about it.
 */
const NODE_TYPES = "@types/node@^20.19.0";
const NODE_TYPES_DIR = join(ROOT, ".tmp", "node-types");
/** Node majors the packed package is tested on (20 is the machine's; the others come from npm). */
const NODE_VERSIONS = flags.node.split(",").map((v) => v.trim()).filter(Boolean);
/** TypeScript versions the consumer checks run on: the oldest supported and the current ones. */
const CONSUMER_TYPESCRIPTS = ["~5.9.3", "~6.0.3", "^7.0.2"];
const REPOSITORY = "https://github.com/thelinuxlich/go-go-scope";
/** The npm package's standard checks, run on the packed tarball (never imported by Deno). */
const TARBALL_LINTERS = ["publint@^0.3.25", "@arethetypeswrong/cli@^0.18.5"];

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

const npmInstall = (cwd: string, specs: string[]) =>
  mustRun("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--loglevel=error",
    ...specs,
  ], cwd);

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
/**
 * Test dependencies installed at another version than deno.json's range: the OpenTelemetry SDK
 * 2.x packages the tests use take `@opentelemetry/api` below 1.10, and one copy of the API must
 * serve the SDK and the plugin (its globals are shared by version).
 */
const TEST_PINS: Readonly<Record<string, string>> = { "@opentelemetry/api": "1.9.1" };

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
    dependencies: { "fastify-plugin": npmRange("fastify-plugin") },
    peerDependencies: {
      fastify: "^5.0.0",
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

async function check(name: string, cmd: string, args: string[], cwd: string): Promise<void> {
  step(name);
  const started = performance.now();
  const code = await run(cmd, args, { cwd, timeoutMs: 5 * 60_000 });
  const took = `(${((performance.now() - started) / 1000).toFixed(1)} s)`;
  console.log(
    code === 0 ? `[check] pass ${name} ${took}` : `[check] fail ${name} (exit ${code}) ${took}`,
  );
  results.push({ name, ok: code === 0 });
}

/** The README's ```cjs block (Deno cannot run it, so it is run here under Node). */
async function readmeCommonJs(): Promise<string> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  return readme.match(/```cjs[^\n]*\n([\s\S]*?)```/)?.[1] ?? fail("README.md has no ```cjs block");
}

/** Node `major` as a command: the machine's node for its own major, else `npx -y node@major`. */
async function nodeCommand(major: string): Promise<[string, string[]]> {
  const own = (await capture("node", ["--version"], ROOT)).trim().replace(/^v/, "").split(".")[0];
  return own === major ? ["node", []] : ["npx", ["-y", `node@${major}`]];
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

    const project = join(tmp, "project");
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      join(project, "package.json"),
      JSON.stringify({ name: "ggs-consumer", private: true, type: "module" }, null, 2),
    );
    const deps = new Set([
      tarball,
      `fastify@${npmRange("fastify")}`,
      `@fastify/sse@${npmRange("@fastify/sse")}`,
      NODE_TYPES,
      ...TARBALL_LINTERS,
      `tstyche@${npmRange("tstyche")}`,
      ...CONSUMER_TYPESCRIPTS.map((range, i) =>
        i === 0 ? `typescript@${range}` : `typescript-${i}@npm:typescript@${range}`
      ),
    ]);
    for (const file of testFiles ?? []) {
      for (const m of (await Deno.readTextFile(file)).matchAll(/from\s*["']([^."'][^"']*)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith("node:") || spec.startsWith(denoJson.name)) continue;
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : spec.split("/")[0]!;
        deps.add(`${name}@${TEST_PINS[name] ?? npmRange(name)}`);
      }
    }
    step(`npm install the tarball + ${[...deps].slice(1).join(" ")}`);
    await npmInstall(project, [...deps]);
    for (const dir of [CONSUMER_FIXTURES, TYPE_TESTS]) {
      for (const file of await listFiles(dir, () => true)) {
        await Deno.copyFile(file, join(project, relative(dir, file)));
      }
    }
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
    // One program per tsconfig.<variant>.json: the ESM and CommonJS faces of the package each
    // augment Fastify's types, so a single program must not see both.
    const tsconfigs = await listFiles(CONSUMER_FIXTURES, (p) => /tsconfig\..+\.json$/.test(p));
    for (const [i, range] of CONSUMER_TYPESCRIPTS.entries()) {
      const pkg = i === 0 ? "typescript" : `typescript-${i}`;
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
        await check(`node ${major}: the test suite against the installed package`, cmd, [
          ...prefix,
          "--test",
          "--test-reporter=spec",
          "--test-timeout=60000",
          ...tests,
        ], suite);
      }
    }
  } finally {
    if (flags.keep) console.log(`(kept ${tmp})`);
    else await Deno.remove(tmp, { recursive: true });
  }
}

function isTestFile(path: string): boolean {
  return /_test\.(m?js|ts)$/.test(path);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  if (!(await exists(TSC))) {
    step("deno install --config deno.dev.json (node_modules/ for tsc)");
    await mustRun(Deno.execPath(), ["install", "--config", "deno.dev.json"]);
  }
  if (!(await exists(join(NODE_TYPES_DIR, "node_modules", "@types", "node", "package.json")))) {
    step(`npm install ${NODE_TYPES} into .tmp/node-types/ (Node's types for tsc)`);
    await Deno.mkdir(NODE_TYPES_DIR, { recursive: true });
    await Deno.writeTextFile(join(NODE_TYPES_DIR, "package.json"), '{ "private": true }\n');
    await npmInstall(NODE_TYPES_DIR, [NODE_TYPES]);
  }

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
      await check(`node: the test suite against npm/`, "node", [
        "--test",
        "--test-reporter=spec",
        "--test-timeout=60000",
        ...testFiles.filter(isTestFile).map((f) => relative(TEST_ESM, f)),
      ], TEST_ESM);
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
