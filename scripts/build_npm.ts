/**
 * Builds the npm package from the Deno sources, and proves it works under Node.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts            # build npm/ (ESM + CommonJS + .d.ts + package.json)
 * deno run -A scripts/build_npm.ts --test     # ...and run the test suite under `node --test`
 * deno run -A scripts/build_npm.ts --pack     # ...and check the packed tarball in a fresh project
 * deno run -A scripts/build_npm.ts --test --pack   # what CI runs: the tests run against the
 *                                                  # installed tarball instead of npm/
 * ```
 *
 * Layout of `npm/`:
 *
 * - `esm/`: ES modules and their `.d.ts`, mirroring the repository (`esm/mod.js`,
 *   `esm/src/core/mod.js`, ...).
 * - `cjs/`: the same as CommonJS (with a `{"type":"commonjs"}` package.json), and a copy of the
 *   `.d.ts` so that `require` consumers get CommonJS-flavoured types.
 * - `test-esm/`: the compiled tests (never packed). `test-esm/mod.js` and `test-esm/src` are
 *   symbolic links to `esm/`, so a test's `../../mod.ts` import lands on the built package.
 *
 * Other flags: `--root=<dir>` builds another tree (used to try the build on samples),
 * `--keep` keeps the temporary consumer project.
 *
 * @module
 */
import ts from "typescript";
import { dirname, join, relative, resolve } from "node:path";

const args = new Set(Deno.args.filter((a) => !a.startsWith("--root=")));
const rootArg = Deno.args.find((a) => a.startsWith("--root="))?.slice("--root=".length);
for (const a of args) {
  if (!["--test", "--pack", "--keep"].includes(a)) {
    console.error(`✖ build_npm: unknown flag ${a} (known: --test, --pack, --keep, --root=<dir>)`);
    Deno.exit(2);
  }
}
const RUN_TESTS = args.has("--test");
const PACK = args.has("--pack");
const KEEP = args.has("--keep");

const SCRIPT_DIR = import.meta.dirname!;
const ROOT = resolve(rootArg ?? join(SCRIPT_DIR, ".."));
const OUT = join(ROOT, "npm");
const ESM = join(OUT, "esm");
const CJS = join(OUT, "cjs");
const TEST_ESM = join(OUT, "test-esm");
const CONSUMER_FIXTURES = join(SCRIPT_DIR, "consumer");
/**
 * Node's types for the compiler (Fastify's declarations import `node:http`), matching the oldest
 * Node we support. Installed with npm into `.tmp/node-types/` rather than declared in deno.json:
 * a `node_modules/@types/node` makes Deno's own tools (`deno doc`) read it and warn about it.
 */
const NODE_TYPES = "@types/node@^20.19.0";
const NODE_TYPES_DIR = join(ROOT, ".tmp", "node-types");
const NODE_TYPES_ROOT = join(NODE_TYPES_DIR, "node_modules", "@types");

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

async function* walk(dir: string): AsyncGenerator<string> {
  if (!(await exists(dir))) return;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

async function listFiles(dir: string, test: (path: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const path of walk(dir)) if (test(path)) out.push(path);
  return out.sort();
}

/** Runs a command with inherited output; returns its exit code (killing it after `timeoutMs`). */
async function run(
  cmd: string,
  cmdArgs: string[],
  { cwd = ROOT, timeoutMs = 10 * 60_000 }: { cwd?: string; timeoutMs?: number } = {},
): Promise<number> {
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    console.error(`✖ ${cmd} ${cmdArgs.join(" ")} took over ${timeoutMs} ms: killed`);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  return status.code;
}

/** Runs a command and returns its stdout; fails with its stderr on a non-zero exit. */
async function capture(cmd: string, cmdArgs: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args: cmdArgs, cwd, stdin: "null" }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    fail(
      `${cmd} ${cmdArgs.join(" ")} failed (exit ${out.code}) in ${cwd}:\n${stdout}${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// deno.json

const denoJson: DenoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const exportMap: Record<string, string> = typeof denoJson.exports === "string"
  ? { ".": denoJson.exports }
  : denoJson.exports;

/** The semver range of an `npm:` import in deno.json (`npm:fastify@^5.6.0` gives `^5.6.0`). */
function npmRange(name: string): string {
  const target = denoJson.imports?.[name];
  const match = target?.match(/^npm:(@?[^@]+)@(.+)$/);
  if (!match || match[1] !== name) {
    fail(`deno.json "imports" has no "${name}": "npm:${name}@<range>" entry`);
  }
  return match[2]!;
}

/** `fastify/types/x` gives `fastify`, `@fastify/sse/x` gives `@fastify/sse`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

// ---------------------------------------------------------------------------------------------
// 1. Source rules: no inline npm:/jsr:/URL specifiers, no Deno global in the library code.

function lineOf(sf: ts.SourceFile, pos: number): string {
  const { line, character } = sf.getLineAndCharacterOfPosition(pos);
  return `${relative(ROOT, sf.fileName)}:${line + 1}:${character + 1}`;
}

function checkSourceRules(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const text = Deno.readTextFileSync(file);
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const checkSpecifier = (node: ts.Node | undefined) => {
      if (node && ts.isStringLiteralLike(node) && /^(npm:|jsr:|https?:)/.test(node.text)) {
        problems.push(
          `${lineOf(sf, node.getStart())}: inline specifier "${node.text}": declare it in ` +
            `deno.json "imports" and import the bare name`,
        );
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
        checkSpecifier(node.moduleSpecifier);
      } else if (
        ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
      ) {
        checkSpecifier(node.arguments[0]);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        checkSpecifier(node.argument.literal);
      } else if (ts.isIdentifier(node) && node.text === "Deno") {
        const parent = node.parent;
        const isKey = (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) ||
          ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent)) &&
          parent.name === node;
        if (!isKey) {
          problems.push(
            `${lineOf(sf, node.getStart())}: the Deno global is not available on Node; ` +
              `library code uses web standards only`,
          );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 2. Compilation

const BASE_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  // Node 20 has Symbol.asyncDispose and AsyncDisposable comes from @types/node 20;
  // DisposableStack and SuppressedError do not exist on Node 20, so esnext.disposable stays out.
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  typeRoots: [NODE_TYPES_ROOT],
  types: ["node"],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  allowImportingTsExtensions: true,
  rewriteRelativeImportExtensions: true,
  esModuleInterop: true,
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true,
  noEmitOnError: true,
  rootDir: ROOT,
  newLine: ts.NewLineKind.LineFeed,
};

const ESM_OPTIONS: ts.CompilerOptions = {
  ...BASE_OPTIONS,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
};

const CJS_OPTIONS: ts.CompilerOptions = {
  ...BASE_OPTIONS,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  outDir: CJS,
};

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => "\n",
};

function checkDiagnostics(label: string, diagnostics: readonly ts.Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  const text = ts.formatDiagnostics(diagnostics, formatHost).trimEnd();
  fail(`TypeScript reported ${diagnostics.length} diagnostic(s) in the ${label} build:\n${text}`);
}

/** Relative `.ts` specifiers in declaration files become `.js` (TypeScript keeps them as written). */
function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"'\n]*?)\.(m|c)?ts\2/g,
    (_m, lead: string, q: string, path: string, mc = "") => `${lead}${q}${path}.${mc}js${q}`,
  );
}

function writeOutput(path: string, text: string): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

function emit(
  program: ts.Program,
  label: string,
  writeFile: ts.WriteFileCallback,
): void {
  const result = program.emit(undefined, writeFile);
  checkDiagnostics(label, result.diagnostics);
  if (result.emitSkipped) fail(`TypeScript skipped the ${label} emit`);
}

/** Compiles the package; returns the source files it contains. */
function buildLibrary(entries: string[]): Set<string> {
  // ESM + declarations.
  const esmOptions = { ...ESM_OPTIONS, outDir: ESM, declaration: true };
  const esm = ts.createProgram(entries, esmOptions);
  checkDiagnostics("ESM", ts.getPreEmitDiagnostics(esm));
  emit(esm, "ESM", (fileName, text) => {
    if (fileName.endsWith(".d.ts")) {
      const dts = rewriteDeclarationSpecifiers(text);
      writeOutput(fileName, dts);
      // A copy beside the CommonJS files: under "type": "commonjs" they describe CommonJS.
      writeOutput(join(CJS, relative(ESM, fileName)), dts);
    } else {
      writeOutput(fileName, text);
    }
  });
  // CommonJS (type-checked again: module-format-specific errors show up here).
  const cjs = ts.createProgram(entries, CJS_OPTIONS);
  checkDiagnostics("CommonJS", ts.getPreEmitDiagnostics(cjs));
  emit(cjs, "CommonJS", (fileName, text) => writeOutput(fileName, text));
  writeOutput(join(CJS, "package.json"), JSON.stringify({ type: "commonjs" }, null, 2) + "\n");
  return new Set(
    esm.getSourceFiles().filter((sf) => !sf.isDeclarationFile).map((sf) => resolve(sf.fileName)),
  );
}

/**
 * Compiles the tests to `npm/test-esm/`, leaving out the library files: `mod.js` and `src/` there
 * are links to the built package. Tests are type-checked by `deno check`; here they are only
 * transpiled (they may mention Deno-only APIs in tests skipped on Node).
 */
function buildTests(
  testFiles: string[],
  libraryFiles: Set<string>,
  packaged: Set<string>,
): string[] {
  const options: ts.CompilerOptions = { ...ESM_OPTIONS, outDir: TEST_ESM, noCheck: true };
  const program = ts.createProgram(testFiles, options);
  checkDiagnostics("test", [
    ...program.getOptionsDiagnostics(),
    ...program.getSyntacticDiagnostics(),
  ]);
  const unpackaged = program.getSourceFiles()
    .map((sf) => resolve(sf.fileName))
    .filter((f) => libraryFiles.has(f) && !packaged.has(f));
  if (unpackaged.length) {
    fail(
      `Tests import library files that the package does not contain (nothing reachable from ` +
        `deno.json "exports" imports them), so they cannot be tested under Node:\n  ` +
        unpackaged.map((f) => relative(ROOT, f)).join("\n  "),
    );
  }
  const written: string[] = [];
  emit(program, "test", (fileName, text, _bom, _onError, sources) => {
    const source = sources?.[0]?.fileName;
    if (source && libraryFiles.has(resolve(source))) return;
    writeOutput(fileName, text);
    written.push(fileName);
  });
  return written;
}

// ---------------------------------------------------------------------------------------------
// 3. Checks on the output

/** The module specifiers a JavaScript or declaration file imports (comments excluded). */
function specifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return [...info.importedFiles, ...info.referencedFiles].map((f) => f.fileName);
}

const isRelative = (spec: string) => /^\.\.?\//.test(spec);
const isInline = (spec: string) => /^(npm|jsr|https?):/.test(spec);

async function checkOutputLinks(dirs: string[]): Promise<void> {
  const problems: string[] = [];
  for (const dir of dirs) {
    for (const file of await listFiles(dir, (p) => /\.(c|m)?js$|\.d\.ts$/.test(p))) {
      const rel = relative(ROOT, file);
      for (const spec of specifiers(await Deno.readTextFile(file))) {
        if (isInline(spec)) {
          problems.push(`${rel}: inline specifier "${spec}" cannot load on Node`);
        } else if (!isRelative(spec)) {
          continue;
        } else if (/\.(c|m)?tsx?$/.test(spec) && !spec.endsWith(".d.ts")) {
          problems.push(`${rel}: specifier "${spec}" still ends in .ts`);
        } else if (!(await exists(join(dirname(file), spec)))) {
          problems.push(`${rel}: specifier "${spec}" points at a missing file`);
        }
      }
    }
  }
  if (problems.length) fail(`The build output is broken:\n  ${problems.join("\n  ")}`);
}

async function bareImports(files: string[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of files) {
    for (const spec of specifiers(await Deno.readTextFile(file))) {
      if (isRelative(spec) || isInline(spec) || spec.startsWith("node:")) continue;
      names.add(packageName(spec));
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// 4. package.json, README, LICENSE

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
  const main = exportMap["."];
  if (!main) fail(`deno.json "exports" has no "." entry`);
  const pkg = {
    name: denoJson.name,
    version: denoJson.version,
    description: denoJson.description,
    license: denoJson.license,
    type: "module",
    main: distPath("cjs", main, ".js"),
    module: distPath("esm", main, ".js"),
    types: distPath("cjs", main, ".d.ts"),
    exports: exportsField,
    ...(Object.keys(typesVersions).length ? { typesVersions: { "*": typesVersions } } : {}),
    files: ["esm/", "cjs/", "README.md", "LICENSE"],
    sideEffects: false,
    engines: { node: ">=20.4" },
    keywords: ["fastify", "fastify-plugin", "structured-concurrency", "cancellation", "abort"],
    dependencies: { "fastify-plugin": npmRange("fastify-plugin") },
    peerDependencies: {
      fastify: "^5.0.0",
      "@fastify/sse": npmRange("@fastify/sse"),
      "@fastify/websocket": npmRange("@fastify/websocket"),
    },
    peerDependenciesMeta: {
      "@fastify/sse": { optional: true },
      "@fastify/websocket": { optional: true },
    },
  };
  await Deno.writeTextFile(join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  for (const file of ["README.md", "LICENSE"]) {
    if (await exists(join(ROOT, file))) await Deno.copyFile(join(ROOT, file), join(OUT, file));
    else console.warn(`⚠ ${file} is missing: the npm package will ship without it`);
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Running under Node

async function runNodeTests(cwd: string, files: string[]): Promise<boolean> {
  const rel = files.map((f) => relative(cwd, f));
  const code = await run("node", [
    "--test",
    "--test-reporter=spec",
    "--test-timeout=60000",
    ...rel,
  ], { cwd, timeoutMs: 10 * 60_000 });
  return code === 0;
}

/** Links `mod.js` and `src` (every top-level entry of the built library) into a test tree. */
async function linkLibrary(testRoot: string, esmDir: string): Promise<void> {
  for await (const entry of Deno.readDir(esmDir)) {
    if (entry.name.endsWith(".d.ts")) continue;
    const link = join(testRoot, entry.name);
    if (await exists(link)) await Deno.remove(link, { recursive: true });
    await Deno.symlink(relative(testRoot, join(esmDir, entry.name)), link);
  }
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

async function packAndCheck(testFiles: string[] | null): Promise<string[]> {
  const failures: string[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "ggs-npm-consumer-" });
  try {
    step("npm pack");
    const packJson = await capture("npm", ["pack", "--json", "--pack-destination", tmp], OUT);
    const packed = (JSON.parse(packJson) as PackResult[])[0];
    if (!packed) fail("npm pack printed no result");
    console.log(
      `${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked, ` +
        `${packed.files.length} files`,
    );
    for (const f of packed.files) console.log(`  ${String(f.size).padStart(7)}  ${f.path}`);

    const project = join(tmp, "project");
    await Deno.mkdir(project);
    // The compiled tests; mod.js and src/ get linked to the installed package's ESM build.
    const testRoot = join(project, "suite");
    const suite: string[] = [];
    for (const file of testFiles ?? []) {
      const target = join(testRoot, relative(TEST_ESM, file));
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.copyFile(file, target);
      suite.push(target);
    }
    await Deno.writeTextFile(
      join(project, "package.json"),
      JSON.stringify({ name: "ggs-consumer", private: true, type: "module" }, null, 2),
    );
    const deps = new Set([
      `fastify@${npmRange("fastify")}`,
      `typescript@${npmRange("typescript")}`,
      NODE_TYPES,
    ]);
    if (testFiles) {
      for (const name of await bareImports(testFiles)) {
        if (name === denoJson.name) continue;
        deps.add(`${name}@${npmRange(name)}`);
      }
    }
    step(`npm install the tarball + ${[...deps].join(" ")}`);
    const installCode = await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
      "--loglevel=error",
      join(tmp, packed.filename),
      ...deps,
    ], { cwd: project, timeoutMs: 5 * 60_000 });
    if (installCode !== 0) fail(`npm install in ${project} failed (exit ${installCode})`);

    for await (const entry of Deno.readDir(CONSUMER_FIXTURES)) {
      await Deno.copyFile(join(CONSUMER_FIXTURES, entry.name), join(project, entry.name));
    }
    const check = async (name: string, cmd: string, cmdArgs: string[]) => {
      step(`consumer: ${name}`);
      const code = await run(cmd, cmdArgs, { cwd: project, timeoutMs: 2 * 60_000 });
      console.log(code === 0 ? `[check] pass ${name}` : `[check] fail ${name} (exit ${code})`);
      if (code !== 0) failures.push(name);
    };
    await check("ESM smoke test", "node", ["smoke.mjs"]);
    await check("CommonJS smoke test", "node", ["smoke.cjs"]);
    const tsc = join("node_modules", "typescript", "bin", "tsc");
    // One program per tsconfig.<variant>.json: the ESM and CommonJS faces of the package each
    // augment Fastify's types, so a single program must not see both.
    const tsconfigs = await listFiles(CONSUMER_FIXTURES, (p) => /tsconfig\..+\.json$/.test(p));
    for (const tsconfig of tsconfigs) {
      const name = tsconfig.split("/").pop()!;
      const { compilerOptions } = JSON.parse(await Deno.readTextFile(tsconfig));
      await check(
        `tsc --noEmit -p ${name} (moduleResolution ${compilerOptions.moduleResolution})`,
        "node",
        [tsc, "-p", name],
      );
    }

    if (testFiles) {
      step("node --test against the installed package");
      await linkLibrary(
        testRoot,
        join(project, "node_modules", ...denoJson.name.split("/"), "esm"),
      );
      if (!(await runNodeTests(testRoot, suite.filter(isTestFile)))) failures.push("node tests");
    }
  } finally {
    if (KEEP) console.log(`(kept ${tmp})`);
    else await Deno.remove(tmp, { recursive: true });
  }
  return failures;
}

function isTestFile(path: string): boolean {
  return /_test\.(m?js|ts)$/.test(path);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  if (!(await exists(join(ROOT, "node_modules", "fastify")))) {
    step("deno install (node_modules/ for the TypeScript compiler)");
    const code = await run(Deno.execPath(), ["install"]);
    if (code !== 0) fail(`deno install failed (exit ${code})`);
  }

  if (!(await exists(join(NODE_TYPES_ROOT, "node", "package.json")))) {
    step(`npm install ${NODE_TYPES} (Node's types for the compiler) into .tmp/node-types/`);
    await Deno.mkdir(NODE_TYPES_DIR, { recursive: true });
    await Deno.writeTextFile(join(NODE_TYPES_DIR, "package.json"), '{ "private": true }\n');
    const code = await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
      "--loglevel=error",
      NODE_TYPES,
    ], { cwd: NODE_TYPES_DIR, timeoutMs: 5 * 60_000 });
    if (code !== 0) fail(`npm install ${NODE_TYPES} failed (exit ${code})`);
  }

  const libraryFiles = [
    join(ROOT, "mod.ts"),
    ...await listFiles(join(ROOT, "src"), (p) => /\.tsx?$/.test(p) && !p.endsWith(".d.ts")),
  ];
  step(`Checking ${libraryFiles.length} library files for Deno-only code`);
  const problems = checkSourceRules(libraryFiles);
  if (problems.length) {
    fail(`Library code that cannot run on Node:\n  ${problems.join("\n  ")}`);
  }

  step("Compiling ESM, CommonJS and declarations to npm/");
  await Deno.remove(OUT, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const entries = Object.values(exportMap).map((p) => join(ROOT, p));
  const packaged = buildLibrary(entries);
  await writePackageJson();
  await checkOutputLinks([ESM, CJS]);
  console.log(`npm/ built in ${Math.round(performance.now() - started)} ms`);

  let testFiles: string[] | null = null;
  const failures: string[] = [];
  if (RUN_TESTS) {
    step("Compiling the tests to npm/test-esm/");
    const sources = await listFiles(join(ROOT, "tests"), (p) => /_test\.tsx?$/.test(p));
    if (sources.length === 0) fail("No test files under tests/");
    const library = new Set(libraryFiles.map((f) => resolve(f)));
    const emitted = buildTests(sources, library, packaged);
    await linkLibrary(TEST_ESM, ESM);
    await checkOutputLinks([TEST_ESM]);
    testFiles = emitted.filter((f) => f.endsWith(".js"));
    if (!PACK) {
      step("node --test against npm/");
      if (!(await runNodeTests(TEST_ESM, testFiles.filter(isTestFile)))) {
        failures.push("node tests");
      }
    }
  }
  if (PACK) failures.push(...await packAndCheck(testFiles));

  console.log(`\nbuild_npm finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (failures.length) fail(`Failed: ${failures.join(", ")}`);
}

try {
  await main();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  console.error(`\n✖ build_npm: ${e.message}`);
  Deno.exit(1);
}
