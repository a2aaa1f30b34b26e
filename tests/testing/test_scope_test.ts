// createTestScope: a scope created with a virtual clock installed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/mod.ts";
import { createTestScope, createTimeController, VirtualClockError } from "../../src/testing/mod.ts";

describe("createTestScope", () => {
  it("installs a clock and creates the scope on it; await using disposes and uninstalls", async () => {
    const realSetTimeout = globalThis.setTimeout;
    let scopeRef;
    {
      await using test = await createTestScope({ timeout: 5_003, concurrency: 1 });
      scopeRef = test.scope;
      assert.equal(test.time.isInstalled, true);
      assert.equal(test.scope.concurrency, 1);
      await test.time.advance(5_002);
      assert.equal(test.scope.isAborted, false);
      await test.time.advance(1);
      assert.ok(test.scope.abortReason instanceof TimeoutError);
    }
    assert.ok(scopeRef.isDisposed);
    assert.equal(globalThis.setTimeout, realSetTimeout);
  });

  it("drives retries with advance()", async () => {
    const { scope, time } = await createTestScope();
    try {
      let attempts = 0;
      const task = scope.task(() => {
        if (++attempts < 3) throw new Error("fail");
        return "success";
      }, { retry: { max: 3, delay: 1000 } });
      await time.advance(2000);
      assert.deepEqual(await task, [undefined, "success"]);
    } finally {
      await scope[Symbol.asyncDispose]();
      time.uninstall();
    }
  });

  it("rejects while a clock is installed (and installs nothing); bad options uninstall again", async () => {
    using time = createTimeController();
    time.install();
    await assert.rejects(
      createTestScope(),
      (err: unknown) => err instanceof VirtualClockError && err.code === "GGS_ERR_CLOCK_INSTALLED",
    );
    time.uninstall();
    await assert.rejects(createTestScope({ timeout: -1 }), RangeError);
    const after = createTimeController();
    after.install(); // nothing left installed by the failed call
    after.uninstall();
  });
});
