/**
 * `deno.json` holds what the package and the example app import (so `deno task start` fetches only
 * that); `deno.dev.json` holds the same entries plus every dev-only tool (TypeScript, test and
 * benchmark libraries). This check fails when the shared entries drift apart.
 *
 * @module
 */
const read = async (path: string): Promise<{ imports?: Record<string, string> }> =>
  JSON.parse(await Deno.readTextFile(new URL(`../${path}`, import.meta.url)));

const app = (await read("deno.json")).imports ?? {};
const dev = (await read("deno.dev.json")).imports ?? {};
const problems = Object.entries(app)
  .filter(([name, target]) => dev[name] !== target)
  .map(([name, target]) =>
    `"${name}": deno.json says "${target}", deno.dev.json says "${dev[name] ?? "(nothing)"}"`
  );
// An import nothing of the package or the example app uses is dev-only: it belongs in
// deno.dev.json alone (else `deno task start` fetches it on every fresh machine).
const appSources: string[] = [];
async function collect(dir: URL): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) await collect(url);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) appSources.push(await Deno.readTextFile(url));
  }
}
appSources.push(await Deno.readTextFile(new URL("../mod.ts", import.meta.url)));
await collect(new URL("../src/", import.meta.url));
await collect(new URL("../examples/", import.meta.url));
for (const name of Object.keys(app)) {
  const used = appSources.some((text) =>
    text.includes(`from "${name}"`) || text.includes(`from "${name}/`) ||
    text.includes(`import("${name}`)
  );
  if (!used) {
    problems.push(
      `"${name}" is in deno.json but neither mod.ts, src/ nor examples/ import it: ` +
        `dev-only imports go in deno.dev.json only`,
    );
  }
}
if (problems.length) {
  console.error(
    `✖ deno.dev.json and deno.json disagree:\n  ${problems.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.log(`✔ deno.dev.json repeats deno.json's ${Object.keys(app).length} imports`);
