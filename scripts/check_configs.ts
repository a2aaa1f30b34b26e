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
if (problems.length) {
  console.error(
    `✖ deno.dev.json must repeat deno.json's imports as they are:\n  ${problems.join("\n  ")}`,
  );
  Deno.exit(1);
}
console.log(`✔ deno.dev.json repeats deno.json's ${Object.keys(app).length} imports`);
