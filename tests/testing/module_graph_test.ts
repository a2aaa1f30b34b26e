// Importing the plugin (mod.ts) or the core never loads the testing kit nor
// @sinonjs/fake-timers: under Deno from `deno info --json`, under Node from a
// module-load hook in a child process that imports the built entry points.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
const EXT = import.meta.url.endsWith(".ts") ? "ts" : "js";
const entry = (path: string) => new URL(`../../${path}.${EXT}`, import.meta.url);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      cmd,
      args,
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`)) : resolve(stdout),
    )
  );
}

/** The file modules and npm packages the entry loads. */
async function graph(path: string): Promise<{ files: string[]; packages: string[] }> {
  if (deno !== undefined) {
    const config = new URL("../../deno.dev.json", import.meta.url).pathname;
    const info = JSON.parse(
      await run(deno.execPath(), ["info", "--json", "--config", config, entry(path).pathname]),
    ) as { modules: { specifier: string; kind?: string; npmPackage?: string }[] };
    return {
      files: info.modules.map((m) => m.specifier).filter((s) => s.startsWith("file:")),
      // The graph's own npm modules (the top-level `npmPackages` lists the whole lockfile's).
      packages: info.modules.flatMap((m) => m.kind === "npm" && m.npmPackage ? [m.npmPackage] : []),
    };
  }
  // Node: a load hook (in the hooks thread) prints every URL the import loads.
  const hooks = "export async function load(url, context, next) {" +
    " console.log('LOADED ' + url); return next(url, context); }";
  const register = `import { register } from "node:module";` +
    ` register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const out = await run(process.execPath, [
    "--no-warnings",
    "--import",
    `data:text/javascript,${encodeURIComponent(register)}`,
    "--input-type=module",
    "-e",
    `await import(${JSON.stringify(entry(path).href)});`,
  ]);
  const urls = out.split("\n").filter((l) => l.startsWith("LOADED ")).map((l) => l.slice(7));
  // In the packed-tarball project the entries re-export the installed package: its own files
  // count as files, not as a dependency.
  const own = (u: string) => u.includes("/node_modules/@go-go-scope/adapter-fastify/");
  const dependency = (u: string) => u.includes("/node_modules/") && !own(u);
  return {
    files: urls.filter((u) => u.startsWith("file:") && !dependency(u)),
    packages: urls.filter(dependency).map((u) =>
      u.replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, "$1")
    ),
  };
}

const isSinon = (name: string) => name.includes("@sinonjs/fake-timers");
const isKit = (file: string) => /\/src\/testing\//.test(file);

describe("module graph: the testing kit is its own entry point", () => {
  it("the plugin's entry (mod) loads neither the kit nor @sinonjs/fake-timers", async () => {
    const { files, packages } = await graph("mod");
    assert.ok(files.some((f) => /\/src\/fastify\//.test(f)), "the graph was read");
    assert.deepEqual(files.filter(isKit), []);
    assert.deepEqual(packages.filter(isSinon), []);
  });

  it("the core's entry (src/core/mod) loads neither", async () => {
    const { files, packages } = await graph("src/core/mod");
    assert.deepEqual(files.filter(isKit), []);
    assert.deepEqual(packages.filter(isSinon), []);
  });

  it("the kit's entry (src/testing/mod) does load @sinonjs/fake-timers (the check is not vacuous)", async () => {
    const { files, packages } = await graph("src/testing/mod");
    assert.ok(files.some(isKit));
    assert.ok(packages.some(isSinon), `packages: ${packages.join(", ")}`);
  });
});
