// The example app teaches what the README says: a missing user is a 404 that is not retried, the
// breaker demo can be tripped from outside and shows its state, the page's favicon is no 404, and
// the SSE route answers every client (a stream, or a 406 for one that refuses it).
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { buildApp } from "../../examples/server.ts";
import { createDataSources, type DataSources } from "../../examples/data_sources.ts";

async function exampleApp(t: TestContext, configure: (sources: DataSources) => void = () => {}) {
  const sources = createDataSources({ latency: 1, streamInterval: 1, metricsInterval: 5 });
  configure(sources);
  const app = await buildApp(sources);
  t.after(() => app.close());
  return { app, sources };
}

describe("example app: user lookup", () => {
  it("an unknown user is a 404, asked for once (not retried)", async (t) => {
    const { app, sources } = await exampleApp(t);
    const response = await app.inject("/users/42");
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { error: "User 42 not found" });
    assert.equal(sources.users.calls, 1);
  });

  it("a store that fails once is still retried", async (t) => {
    const { app, sources } = await exampleApp(t, (s) => (s.users.failNext = 1));
    const response = await app.inject("/users/1");
    assert.equal(response.statusCode, 200);
    assert.equal(sources.users.calls, 2);
  });
});

describe("example app: the circuit breaker demo", () => {
  it("?fail=1 trips the breaker from outside, and every answer shows its state", async (t) => {
    const { app, sources } = await exampleApp(t);
    const ok = await app.inject("/external-api");
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers["x-circuit-state"], "closed");

    for (let i = 1; i <= 5; i++) {
      const failed = await app.inject("/external-api?fail=1");
      assert.equal(failed.statusCode, 503);
      assert.equal(failed.headers["x-circuit-state"], i < 5 ? "closed" : "open");
    }
    assert.equal(sources.external.calls, 6);
    assert.deepEqual((await app.inject("/external-api/breaker")).json(), { state: "open" });

    // Open: a healthy request fails fast without calling the API.
    const fastFail = await app.inject("/external-api");
    assert.equal(fastFail.statusCode, 503);
    assert.equal(fastFail.headers["x-circuit-state"], "open");
    assert.equal(sources.external.calls, 6, "the open breaker did not call the API");
  });

  it("the x-fail: 1 header works as the query does", async (t) => {
    const { app } = await exampleApp(t);
    const response = await app.inject({ url: "/external-api", headers: { "x-fail": "1" } });
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { error: "Service unavailable" });
  });
});

describe("example app: the page", () => {
  it("answers the favicon with 204, not 404", async (t) => {
    const { app } = await exampleApp(t);
    const response = await app.inject("/favicon.ico");
    assert.equal(response.statusCode, 204);
    assert.equal(response.body, "");
  });

  it("streams /events to a client that sends no Accept header (curl)", async (t) => {
    const { app } = await exampleApp(t);
    const response = await app.inject("/events?count=2&interval=1");
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/event-stream/);
    assert.match(response.body, /event: end/);
  });

  it("answers /events with a 406 to a client that refuses text/event-stream", async (t) => {
    const { app } = await exampleApp(t);
    const response = await app.inject({
      url: "/events?count=2&interval=1",
      headers: { accept: "application/json" },
    });
    assert.equal(response.statusCode, 406);
    assert.match(response.json().message, /text\/event-stream/);
  });
});
