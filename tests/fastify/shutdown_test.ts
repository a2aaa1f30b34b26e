// app.close() with the plugin's shutdownTimeout: in-flight work gets the
// drain bound, then is cancelled with ServerClosingError (told apart from a
// client that left), the requests answer 503 and close() resolves; without
// the option, in-flight requests finish untouched.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../../src/fastify/mod.ts";
import { ServerClosingError } from "../../src/core/mod.ts";
import { deferred, listen, request, sleep } from "./_helpers.ts";

/** An app whose `/work` task runs until its signal aborts or `finish` resolves. */
async function slowApp(options: FastifyGoGoScopeOptions) {
  const app = Fastify() as unknown as FastifyInstance;
  await app.register(fastifyGoGoScope, options);
  const started = deferred();
  const finish = deferred<string>();
  const seen: { error?: unknown; at?: number } = {};
  app.get("/work", async (request) => {
    started.resolve();
    const [err, value] = await request.scope.task(({ signal }) =>
      new Promise<string>((resolve, reject) => {
        finish.promise.then(resolve);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      })
    );
    seen.error = err;
    seen.at = performance.now();
    if (err) throw err;
    return value;
  });
  const port = await listen(app);
  return { app, port, started, finish, seen };
}

describe("shutdown: shutdownTimeout bounds the drain of app.close()", () => {
  it("in-flight work is cancelled with ServerClosingError once the bound passes; close() resolves", async () => {
    const { app, port, started, seen } = await slowApp({ shutdownTimeout: 60 });
    const response = request(port, "/work");
    await started.promise;
    const closeStarted = performance.now();
    await app.close();
    const res = await response;
    assert.ok(seen.error instanceof ServerClosingError, `got ${String(seen.error)}`);
    assert.equal((seen.error as ServerClosingError).code, "GGS_ERR_SERVER_CLOSING");
    const after = seen.at! - closeStarted;
    assert.ok(after >= 55 && after < 160, `cancelled ${after.toFixed(0)} ms after close() began`);
    assert.equal(res.status, 503);
    assert.equal(app.scope.childCount, 0);
  });

  it("work that finishes within the bound is not cancelled", async () => {
    const { app, port, started, finish, seen } = await slowApp({ shutdownTimeout: 1000 });
    const response = request(port, "/work");
    await started.promise;
    const closing = app.close();
    await sleep(20);
    finish.resolve("done");
    assert.equal((await response).body, "done");
    await closing;
    assert.equal(seen.error, undefined);
  });

  it("without shutdownTimeout, close() waits for in-flight work as Fastify does", async () => {
    const { app, port, started, finish, seen } = await slowApp({});
    const response = request(port, "/work");
    await started.promise;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await sleep(150);
    assert.equal(closed, false, "close() still drains");
    assert.equal(seen.error, undefined, "nothing was cancelled");
    finish.resolve("late but whole");
    assert.equal((await response).body, "late but whole");
    await closing;
  });
});
