// createMockScope: a real scope that records its tasks, can be aborted by
// hand, and whose mock services its tasks receive (go-go-scope's set them as
// properties only, where tasks never see them).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AbortError, Scope } from "../../src/core/mod.ts";
import { createMockScope, createSpy } from "../../src/testing/mod.ts";

describe("createMockScope", () => {
  it("is a real scope named mock-scope whose tasks run", async () => {
    await using s = createMockScope();
    assert.ok(s instanceof Scope);
    assert.equal(s.name, "mock-scope");
    const [err, value] = await s.task(() => Promise.resolve("done"));
    assert.equal(err, undefined);
    assert.equal(value, "done");
  });

  it("records each task's function and options; getTaskCalls / clearTaskCalls", async () => {
    await using s = createMockScope();
    const fn = () => 1;
    await s.task(fn, { name: "one", retry: "fixed" });
    await s.task(() => 2);
    assert.equal(s.taskCalls.length, 2);
    assert.equal(s.taskCalls[0]?.fn, fn);
    assert.deepEqual(s.taskCalls[0]?.options, { name: "one", retry: "fixed" });
    assert.equal(s.getTaskCalls(), s.taskCalls);
    s.clearTaskCalls();
    assert.deepEqual(s.getTaskCalls(), []);
  });

  it("services reach the tasks (ctx.services) and scope.use(); functions are services, not factories", async () => {
    const query = createSpy<[string], string[]>().mockReturnValue(["row"]);
    const format = (rows: string[]) => rows.join(",");
    await using s = createMockScope({ services: { db: { query }, format } });
    const [err, value] = await s.task(({ services }) =>
      services.format(services.db.query("SELECT 1"))
    );
    assert.equal(err, undefined);
    assert.equal(value, "row");
    assert.ok(query.wasCalledWith("SELECT 1"));
    assert.equal(s.use("format"), format);
    assert.equal(
      (s as unknown as { db: unknown }).db,
      s.use("db"),
      "also a property, as in go-go-scope",
    );
  });

  it("overrides replace services; mockService() provides or replaces later, for later tasks", async () => {
    await using s = createMockScope({
      services: { api: "real" },
      overrides: { api: "fake" },
    });
    assert.equal((await s.task(({ services }) => services.api))[1], "fake");
    const more = s.mockService("api", "faker").mockService("cache", 42);
    assert.equal(more, s, "chains on the same scope");
    const [, seen] = await more.task(({ services }) => `${services.api}:${services.cache}`);
    assert.equal(seen, "faker:42");
  });

  it("a service named like a scope member is provided but does not shadow the member", async () => {
    await using s = createMockScope({ services: { name: "svc" } });
    assert.equal(s.name, "mock-scope");
    assert.equal((await s.task(({ services }) => services.name))[1], "svc");
  });

  it("abort() cancels the scope: running tasks fail with the reason, new ones do not run", async () => {
    await using s = createMockScope();
    const running = s.task(({ signal }) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
    );
    const reason = new Error("stop");
    s.abort(reason);
    assert.equal((await running)[0], reason);
    let ran = false;
    const [err] = await s.task(() => (ran = true));
    assert.equal(err, reason);
    assert.equal(ran, false);
    assert.equal(s.signal.reason, reason);
  });

  it("aborted / abortReason start it aborted (an AbortError without a reason)", async () => {
    await using plain = createMockScope({ aborted: true });
    assert.ok(plain.isAborted);
    assert.ok(plain.abortReason instanceof AbortError);
    await using reasoned = createMockScope({ aborted: true, abortReason: "maintenance" });
    assert.equal(reasoned.abortReason, "maintenance");
    const [err] = await reasoned.task(() => 1);
    assert.ok(err instanceof AbortError);
    assert.match(err.message, /maintenance/);
  });

  it("keeps its options; autoAdvanceTimers and deterministic are accepted and change nothing", async () => {
    const options = { autoAdvanceTimers: true, deterministic: true };
    await using s = createMockScope(options);
    assert.equal(s.options, options);
    assert.equal((await s.task(() => "ok"))[1], "ok");
  });
});
