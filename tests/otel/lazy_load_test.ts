// `@opentelemetry/api` is an optional peer: nothing the package loads
// statically imports it. Walks the static import graph from the entry points
// (the .ts sources under Deno, the built .js under Node) and finds it only
// behind the plugin's dynamic import of src/otel/, taken when `tracing` or
// `metrics` is on. Also: the tracer is named after the package's version.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../../src/otel/mod.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const root = new URL("../../", import.meta.url);

// Static imports and re-exports, not `import type` / `export type` (erased).
const STATIC = /^\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\sfrom\s*)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

async function graph(entry: URL): Promise<{ files: Set<string>; bare: Map<string, string> }> {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const url = queue.pop()!;
    const path = fileURLToPath(url);
    if (files.has(path)) continue;
    files.add(path);
    const text = await readFile(path, "utf8");
    for (const m of text.matchAll(STATIC)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) queue.push(new URL(spec.replace(/\.ts$/, ext), url));
      else bare.set(spec, path);
    }
  }
  return { files, bare };
}

test("lazy: no file statically reachable from the entry points imports @opentelemetry/api", async () => {
  for (const entry of ["mod", "src/core/mod", "src/redis/mod"]) {
    const { files, bare } = await graph(new URL(entry + ext, root));
    assert.ok(files.size > 10, `${entry}: a graph of ${files.size} files is too small to trust`);
    const otel = [...bare.keys()].filter((spec) => spec.startsWith("@opentelemetry/"));
    assert.deepEqual(otel, [], `${entry}${ext} reaches ${otel} through ${bare.get(otel[0]!)}`);
  }
});

test("lazy: src/otel/ is loaded only by the plugin's dynamic import", async () => {
  const { files } = await graph(new URL("mod" + ext, root));
  assert.equal([...files].some((f) => f.includes("/src/otel/")), false);
  const loader = await readFile(new URL(`src/fastify/_observability${ext}`, root), "utf8");
  const dynamic = [...new Set([...loader.matchAll(DYNAMIC)].map((m) => m[1]))];
  assert.deepEqual(dynamic, [`../otel/mod${ext}`]);
});

test("lazy: the tracer and meter are named after the package and deno.json's version", async () => {
  // Under Deno, deno.json is two levels up; under Node, the built package.json (next to the
  // compiled suite, or installed in the packed-tarball project's node_modules).
  const manifests = ext === ".ts"
    ? ["deno.json"]
    : ["../package.json", "../node_modules/@go-go-scope/adapter-fastify/package.json"];
  let json: { name?: string; version?: string } = {};
  for (const manifest of manifests) {
    try {
      json = JSON.parse(await readFile(new URL(manifest, root), "utf8"));
    } catch {
      continue;
    }
    if (json.name === PACKAGE_NAME) break;
  }
  assert.equal(PACKAGE_NAME, json.name);
  assert.equal(PACKAGE_VERSION, json.version);
});
