// createSpy: records calls, returns mocked values, compares arguments with
// deep strict equality (go-go-scope compares their JSON).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSpy } from "../../src/testing/mod.ts";

describe("createSpy", () => {
  it("returns undefined by default and records calls", () => {
    const spy = createSpy<[number, string], unknown>();
    assert.equal(spy.wasCalled(), false);
    assert.equal(spy(1, "a"), undefined);
    assert.equal(spy.wasCalled(), true);
    assert.deepEqual(spy.calls, [{ args: [1, "a"], result: undefined }]);
    assert.equal(spy.getCalls(), spy.calls);
  });

  it("mockReturnValue, mockImplementation (which wins), mockReset", () => {
    const spy = createSpy<[number], number>().mockReturnValue(7);
    assert.equal(spy(1), 7);
    spy.mockImplementation((n) => n * 10);
    assert.equal(spy(2), 20);
    assert.deepEqual(spy.calls.map((c) => c.result), [7, 20]);
    assert.equal(spy.mockReset(), spy);
    assert.deepEqual(spy.calls, []);
    assert.equal(spy(3), undefined);
  });

  it("mockReturnValue(undefined) is a return value too", () => {
    const spy = createSpy<[], string | undefined>().mockImplementation(() => "impl");
    spy.mockReset().mockReturnValue(undefined);
    assert.equal(spy(), undefined);
  });

  it("wasCalledWith compares deeply and strictly", () => {
    const spy = createSpy<unknown[], void>();
    const fn = () => {};
    spy({ a: 1, b: [1, 2] }, undefined, fn, Number.NaN, new Date(0));
    assert.equal(
      spy.wasCalledWith({ a: 1, b: [1, 2] }, undefined, fn, Number.NaN, new Date(0)),
      true,
    );
    assert.equal(spy.wasCalledWith({ a: 1, b: [1, 2] }, null, fn, Number.NaN, new Date(0)), false);
    assert.equal(
      spy.wasCalledWith({ a: 1, b: [1, 2] }, undefined, () => {}, Number.NaN, new Date(0)),
      false,
    );
    assert.equal(
      spy.wasCalledWith({ a: "1", b: [1, 2] }, undefined, fn, Number.NaN, new Date(0)),
      false,
    );
    assert.equal(
      spy.wasCalledWith({ a: 1, b: [1, 2] }, undefined, fn, Number.NaN, new Date(1)),
      false,
    );
  });

  it("a call that throws is recorded with its error and the error is rethrown", () => {
    const spy = createSpy<[], number>().mockImplementation(() => {
      throw new Error("no");
    });
    assert.throws(() => spy(), /no/);
    assert.equal(spy.calls.length, 1);
    assert.equal((spy.calls[0]?.error as Error).message, "no");
  });

  it("the implementation gets the spy's this", () => {
    const spy = createSpy<[], unknown>().mockImplementation(function (this: unknown) {
      return this;
    });
    const holder = { spy };
    assert.equal(holder.spy(), holder);
  });
});
