// The complete test of docs/testing.md is the code tests/testing/docs_example_test.ts
// runs (the docs import the package's names where the test imports relative paths).
// Reads the repository's files: skipped where they are not (the Node run of the build).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

const MARK = "--- docs/testing.md: complete example ---";

async function read(path: string): Promise<string | undefined> {
  try {
    return await readFile(new URL(path, import.meta.url), "utf8");
  } catch {
    return undefined;
  }
}

/** Whitespace-insensitive, with the test's relative imports named as the docs name them. */
function normalize(code: string): string {
  return code
    .replaceAll('"../../src/testing/mod.ts"', '"@go-go-scope/adapter-fastify/testing"')
    .replaceAll('"../../mod.ts"', '"@go-go-scope/adapter-fastify"')
    .replace(/,(\s*[}\]])/g, "$1") // trailing commas the formatter adds to wrapped lists
    .replace(/\s+/g, " ")
    .trim();
}

describe("docs/testing.md", () => {
  it("shows exactly the complete test that docs_example_test.ts runs", async (t) => {
    const docs = await read("../../docs/testing.md");
    const test = await read("./docs_example_test.ts");
    if (docs === undefined || test === undefined || !test.includes(MARK)) {
      t.skip("the repository's docs are not here (the Node run of the npm build)");
      return;
    }
    const block = docs.match(
      /<!-- complete example: tests\/testing\/docs_example_test\.ts -->\s*```ts(?: ignore)?\n([\s\S]*?)```/,
    )?.[1];
    assert.ok(block, "docs/testing.md has the marked complete example");
    assert.equal(normalize(block), normalize(test.slice(test.indexOf(MARK) + MARK.length)));
  });
});
