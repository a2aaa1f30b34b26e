// PriorityChannel: priority order, capacity and waiting senders, unbuffered
// hand-off, trySend/sendOrDrop/tryReceive/peek, close, abort, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AbortError, PriorityChannel, scope } from "../../../src/core/mod.ts";
import { dispose, tick } from "../_helpers.ts";

const byNumber = (a: number, b: number): number => a - b;

test("priorityChannel: receivers get values in comparator order", async () => {
  await using s = scope();
  const ch = s.priorityChannel({ capacity: 10, comparator: byNumber });
  for (const n of [5, 1, 4, 2, 3]) await ch.send(n);
  assert.equal(ch.peek(), 1);
  ch.close();
  const out: number[] = [];
  for await (const n of ch) out.push(n);
  assert.deepEqual(out, [1, 2, 3, 4, 5]);
});

test("priorityChannel: draining any sequence comes out sorted (property)", () => {
  fc.assert(fc.property(fc.array(fc.integer()), (xs) => {
    const ch = new PriorityChannel<number>({ capacity: xs.length, comparator: byNumber });
    for (const x of xs) assert.equal(ch.trySend(x), true);
    const out: number[] = [];
    for (let v = ch.tryReceive(); v !== undefined; v = ch.tryReceive()) out.push(v);
    assert.deepEqual(out, [...xs].sort(byNumber));
  }));
});

test("priorityChannel: a full channel makes send wait until a receive frees room", async () => {
  await using s = scope();
  const ch = s.priorityChannel({ capacity: 1, comparator: byNumber });
  await ch.send(2);
  assert.equal(ch.isFull, true);
  let sent = false;
  const p = ch.send(1).then(() => (sent = true));
  await tick();
  assert.equal(sent, false);
  assert.equal(await ch.receive(), 2);
  await p;
  assert.equal(await ch.receive(), 1);
});

test("priorityChannel: with capacity 0 a waiting receiver gets the value directly, and waiting senders go best first", async () => {
  await using s = scope();
  const ch = s.priorityChannel({ comparator: byNumber });
  const r = ch.receive();
  await ch.send(7);
  assert.equal(await r, 7);
  const sends = [ch.send(3), ch.send(1), ch.send(2)];
  assert.deepEqual([await ch.receive(), await ch.receive(), await ch.receive()], [1, 2, 3]);
  await Promise.all(sends);
});

test("priorityChannel: trySend and sendOrDrop do not wait; dropped values go to onDrop", async () => {
  await using s = scope();
  const dropped: number[] = [];
  const ch = s.priorityChannel({
    capacity: 1,
    comparator: byNumber,
    onDrop: (v) => dropped.push(v),
  });
  assert.equal(ch.trySend(1), true);
  assert.equal(ch.trySend(2), false);
  ch.sendOrDrop(3);
  assert.deepEqual(dropped, [3]);
  assert.equal(ch.tryReceive(), 1);
  assert.equal(ch.tryReceive(), undefined);
});

test("priorityChannel: close rejects waiting senders and ends waiting receivers", async () => {
  await using s = scope();
  const ch = s.priorityChannel({ capacity: 0, comparator: byNumber });
  const sender = ch.send(1);
  ch.close();
  await assert.rejects(sender, { message: "Channel closed" });
  await assert.rejects(ch.send(2), { message: "Cannot send on closed channel" });
  const full = s.priorityChannel({ capacity: 0, comparator: byNumber });
  const receiver = full.receive();
  full.close();
  assert.equal(await receiver, undefined);
});

test("priorityChannel: disposing the scope rejects every waiting sender and receiver", async () => {
  const s = scope();
  const a = s.priorityChannel({ capacity: 0, comparator: byNumber });
  const b = s.priorityChannel({ capacity: 0, comparator: byNumber });
  const sender = a.send(1);
  const receiver = b.receive();
  await dispose(s);
  const [e1, e2] = await Promise.all([sender.catch((e) => e), receiver.catch((e) => e)]);
  assert.ok(e1 instanceof AbortError && e2 instanceof AbortError);
  assert.equal(e1.message, "Scope disposed");
  assert.equal(a.isClosed, true);
});

test("priorityChannel: bad options throw naming the option", () => {
  const s = scope();
  assert.throws(() => s.priorityChannel({} as never), {
    message: 'Cannot create priority channel: "comparator" must be a function, received undefined',
  });
  assert.throws(() => s.priorityChannel({ capacity: -1, comparator: byNumber }), {
    name: "RangeError",
    message: /"capacity" must be an integer >= 0, received -1/,
  });
});
