// The complete test shown in docs/testing.md, run in CI under Deno and Node.
// Keep the two identical (the docs import the package's names where this file
// imports relative paths): docs_sync_test.ts compares them.
// --- docs/testing.md: complete example ---
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { ClientDisconnectedError, fastifyGoGoScope } from "../../mod.ts";
import {
  assertNoRequestScopes,
  createTimeController,
  leaveRequest,
} from "../../src/testing/mod.ts";

/** The app under test: GET /quote asks a flaky upstream, retrying with backoff, within 10 s. */
async function buildApp(upstream: (signal: AbortSignal) => Promise<string>) {
  const app = Fastify();
  await app.register(fastifyGoGoScope, { timeout: 10_000 });
  app.get("/quote", async (request) => {
    const [err, quote] = await request.scope.task(({ signal }) => upstream(signal), {
      name: "upstream",
      retry: { max: 5, delay: (retry) => 1_000 * 2 ** (retry - 1) }, // 1 s, 2 s, 4 s, ...
    });
    if (err) throw err;
    return { quote };
  });
  return app;
}

describe("GET /quote", () => {
  // One virtual clock for the whole suite: no test waits in real time.
  const time = createTimeController();
  before(() => time.install());
  after(() => time.uninstall());

  it("retries a flaky upstream with backoff, then answers", async () => {
    const calls: number[] = [];
    const app = await buildApp(async () => {
      calls.push(time.now);
      if (calls.length < 3) throw new Error("upstream: 503");
      return "42";
    });
    try {
      const response = app.inject("/quote");
      await time.advance(3_000); // the 1 s and 2 s backoffs
      assert.equal((await response).json().quote, "42");
      assert.deepEqual(calls.map((at) => at - calls[0]!), [0, 1_000, 3_000]);
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("gives up at the request's deadline with a 504", async () => {
    const app = await buildApp(() => Promise.reject(new Error("upstream: 503")));
    try {
      const response = app.inject("/quote");
      await time.advance(10_000);
      const res = await response;
      assert.equal(res.statusCode, 504);
      assert.equal(res.json().code, "GGS_ERR_TIMEOUT");
    } finally {
      await app.close();
    }
  });

  it("stops retrying the moment the client leaves", async () => {
    const calls: number[] = [];
    const app = await buildApp(async () => {
      calls.push(time.now);
      throw new Error("upstream: 503");
    });
    try {
      // Over a real socket; the client leaves 2.5 s (virtual) after the request arrived.
      const left = await leaveRequest(app, { url: "/quote", leave: { afterMs: 2_500 } });
      assert.ok(left.reason instanceof ClientDisconnectedError);
      assert.equal(left.tasks[0]?.name, "upstream");
      assert.equal(left.tasks[0]?.outcome, "cancelled");
      assert.equal(calls.length, 2, "tried at 0 s and 1 s; the 3 s retry never came");
      await time.advance(60_000);
      assert.equal(calls.length, 2, "and no retry afterwards");
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });
});
