// createMockChannel: a channel double whose received values the test sets.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createMockChannel } from "../../src/testing/mod.ts";

describe("createMockChannel", () => {
  it("receive() hands out the set values in order, then undefined", async () => {
    const mock = createMockChannel<number>();
    mock.setReceiveValues([1, 2]);
    assert.equal(await mock.channel.receive(), 1);
    mock.mockReceive(3);
    assert.equal(await mock.channel.receive(), 2);
    assert.equal(await mock.channel.receive(), 3);
    assert.equal(await mock.channel.receive(), undefined);
  });

  it("send() records values until closed; getSentValues is a copy; clearSentValues", async () => {
    const mock = createMockChannel<string>();
    assert.equal(await mock.channel.send("a"), true);
    const copy = mock.getSentValues();
    copy.push("x");
    assert.deepEqual(mock.sentValues, ["a"]);
    mock.clearSentValues();
    assert.deepEqual(mock.sentValues, []);
    mock.channel.close();
    assert.equal(mock.isClosed, true);
    assert.equal(await mock.channel.send("b"), false);
    assert.deepEqual(mock.sentValues, []);
  });

  it("iterates over the values left, stops when closed; mockReceiveValues is the current array", async () => {
    const mock = createMockChannel<number>();
    const values = [1, 2, 3];
    mock.setReceiveValues(values);
    assert.equal(mock.mockReceiveValues, values);
    const seen: number[] = [];
    for await (const n of mock.channel) {
      seen.push(n);
      if (n === 2) mock.close();
    }
    assert.deepEqual(seen, [1, 2]);
    assert.equal(await mock.channel.receive(), undefined, "closed");
    const iterator = mock.channel[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.return?.(), { done: true, value: undefined });
  });

  it("reset() reopens it with nothing sent and nothing to receive", async () => {
    const mock = createMockChannel<number>();
    mock.setReceiveValues([1]);
    await mock.channel.send(9);
    mock.close();
    mock.reset();
    assert.equal(mock.isClosed, false);
    assert.deepEqual(mock.sentValues, []);
    assert.deepEqual(mock.mockReceiveValues, []);
    assert.equal(await mock.channel.receive(), undefined);
    assert.equal(await mock.channel.send(1), true);
  });
});
