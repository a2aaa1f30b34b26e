/**
 * No import circles in `src/` and `mod.ts`: runs madge (through npx, so a machine with node and npm
 * is enough) for the import graph, type-only imports included, and fails on any circle, or when
 * the graph is too small to trust (madge skips TypeScript it cannot parse without saying so).
 *
 * @module
 */

const MADGE = ["-y", "-p", "madge@8", "-p", "typescript@~5.9.3", "madge"];
const ARGS = ["--json", "--extensions", "ts", "src", "mod.ts"];
/** The hub and its feature methods import every feature: far fewer edges means madge did not parse them. */
const HUB = ["src/core/scope.ts", "src/core/scope_features.ts"];
const MIN_HUB_IMPORTS = 40;
const MIN_FILES = 60;

const output = await new Deno.Command("npx", {
  args: [...MADGE, ...ARGS],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!output.success) {
  console.error(`npx madge exited with code ${output.code}`);
  Deno.exit(1);
}
const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<string, string[]>;

const files = Object.keys(graph).length;
const hubImports = HUB.reduce((n, file) => n + (graph[file]?.length ?? 0), 0);
if (files < MIN_FILES || hubImports < MIN_HUB_IMPORTS) {
  console.error(
    `madge read ${files} files and ${hubImports} imports of ${HUB.join(" + ")} ` +
      `(expected at least ${MIN_FILES} and ${MIN_HUB_IMPORTS}): it did not parse the TypeScript`,
  );
  Deno.exit(1);
}

// Depth-first search; a file met again while on the current path closes a circle.
const circles: string[][] = [];
const done = new Set<string>();
const path: string[] = [];
const onPath = new Set<string>();
function visit(file: string): void {
  if (onPath.has(file)) {
    circles.push([...path.slice(path.indexOf(file)), file]);
    return;
  }
  if (done.has(file)) return;
  onPath.add(file);
  path.push(file);
  for (const next of graph[file] ?? []) visit(next);
  path.pop();
  onPath.delete(file);
  done.add(file);
}
for (const file of Object.keys(graph).sort()) visit(file);

if (circles.length > 0) {
  console.error(`${circles.length} import circle(s):`);
  for (const circle of circles) console.error(`  ${circle.join(" > ")}`);
  Deno.exit(1);
}
console.log(`No import circles (${files} files, ${hubImports} imports of ${HUB.join(" + ")})`);
