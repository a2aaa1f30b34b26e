// scope.broadcast() and BroadcastChannel: every subscriber gets every message,
// close drains, the scope's abort ends everything, no waiter is left behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BroadcastChannel, scope } from "../../../src/core/mod.ts";
import { dispose, tick } from "../_helpers.ts";

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

test("broadcast: every subscriber gets every message, in order", async () => {
  const s = scope();
  const bc = s.broadcast<number>();
  const subs = [bc.subscribe(), bc.subscribe(), bc.subscribe()];
  const all = Promise.all(subs.map(drain));
  for (let i = 1; i <= 3; i++) assert.equal(await bc.send(i), true);
  bc.close();
  assert.deepEqual(await all, [[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  await dispose(s);
});

test("broadcast: consumers in tasks receive the same stream", async () => {
  const s = scope();
  const bc = s.broadcast<string>();
  const a = s.task(() => drain(bc.subscribe()));
  const b = s.task(() => drain(bc.subscribe()));
  await bc.send("hello");
  await bc.send("world");
  bc.close();
  assert.deepEqual(await a, [undefined, ["hello", "world"]]);
  assert.deepEqual(await b, [undefined, ["hello", "world"]]);
  await dispose(s);
});

test("broadcast: a subscriber gets only messages sent after it subscribed", async () => {
  const bc = new BroadcastChannel<number>();
  const early = bc.subscribe();
  await bc.send(1);
  const late = bc.subscribe();
  await bc.send(2);
  bc.close();
  assert.deepEqual(await drain(early), [1, 2]);
  assert.deepEqual(await drain(late), [2]);
});

test("broadcast: a slow subscriber queues; it never holds back the others", async () => {
  const bc = new BroadcastChannel<number>();
  const fast = bc.subscribe();
  const slow = bc.subscribe();
  const fastNext = fast.next();
  await bc.send(1);
  await bc.send(2);
  assert.deepEqual(await fastNext, { done: false, value: 1 });
  assert.deepEqual(await fast.next(), { done: false, value: 2 });
  bc.close();
  assert.deepEqual(await drain(slow), [1, 2]);
});

test("broadcast: send() with no subscriber resolves true and is not replayed later", async () => {
  const bc = new BroadcastChannel<number>();
  assert.equal(await bc.send(1), true);
  const sub = bc.subscribe();
  bc.close();
  assert.deepEqual(await drain(sub), []);
});

test("broadcast: subscriberCount counts live subscriptions; leaving a loop unsubscribes", async () => {
  const bc = new BroadcastChannel<number>();
  assert.equal(bc.subscriberCount, 0);
  const a = bc.subscribe();
  bc.subscribe();
  assert.equal(bc.subscriberCount, 2);
  await bc.send(1);
  await bc.send(2);
  for await (const v of a) {
    assert.equal(v, 1);
    break;
  }
  assert.equal(bc.subscriberCount, 1);
  assert.deepEqual(await a.next(), { done: true, value: undefined }, "a left subscription ends");
  bc.close();
});

test("broadcast: close() ends a waiting subscriber, later sends resolve false", async () => {
  const bc = new BroadcastChannel<number>();
  const sub = bc.subscribe();
  const waiting = sub.next();
  await tick();
  bc.close();
  bc.close();
  assert.deepEqual(await waiting, { done: true, value: undefined });
  assert.equal(bc.isClosed, true);
  assert.equal(await bc.send(1), false);
});

test("broadcast: subscribing to a closed channel throws", () => {
  const bc = new BroadcastChannel<number>();
  bc.close();
  assert.throws(() => bc.subscribe(), /Cannot subscribe to closed broadcast channel/);
});

test("broadcast: undefined and null are ordinary messages", async () => {
  const bc = new BroadcastChannel<number | undefined | null>();
  const sub = bc.subscribe();
  await bc.send(undefined);
  await bc.send(null);
  bc.close();
  assert.deepEqual(await drain(sub), [undefined, null]);
});

test("broadcast: it closes with its scope; waiting subscribers end, queues are dropped", async () => {
  const s = scope();
  const bc = s.broadcast<number>();
  const waiting = bc.subscribe();
  const queued = bc.subscribe();
  const next = waiting.next();
  await bc.send(1);
  assert.deepEqual(await next, { done: false, value: 1 });
  const pending = waiting.next();
  await bc.send(2);
  await bc.send(3);
  assert.deepEqual(await pending, { done: false, value: 2 });
  const last = queued.next(); // 1 is queued
  assert.deepEqual(await last, { done: false, value: 1 });
  const blocked = bc.subscribe().next();
  await dispose(s);
  assert.equal(bc.isClosed, true);
  assert.deepEqual(await blocked, { done: true, value: undefined }, "no waiter is left pending");
  assert.deepEqual(await queued.next(), { done: true, value: undefined }, "the queue was dropped");
  assert.equal(bc.subscriberCount, 0);
  assert.equal(await bc.send(4), false);
});

test("broadcast: one created on a disposed scope is closed", async () => {
  const s = scope();
  await dispose(s);
  const bc = s.broadcast<number>();
  assert.equal(bc.isClosed, true);
  assert.equal(await bc.send(1), false);
});

test("broadcast: close() detaches it from its scope, and await using closes it", async () => {
  const s = scope();
  {
    await using bc = s.broadcast<number>();
    bc.subscribe();
  }
  const bc2 = s.broadcast<number>();
  const sub = bc2.subscribe();
  await bc2.send(1);
  bc2.close();
  await dispose(s);
  assert.deepEqual(await drain(sub), [1], "a closed channel keeps its queues when the scope ends");
});

test("broadcast (property): every subscriber sees exactly the messages sent while it listened", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.constant("sub" as const), fc.integer()), { maxLength: 40 }),
      async (ops) => {
        const bc = new BroadcastChannel<number>();
        const subs: { it: AsyncIterableIterator<number, undefined>; expected: number[] }[] = [];
        for (const op of ops) {
          if (op === "sub") subs.push({ it: bc.subscribe(), expected: [] });
          else {
            await bc.send(op);
            for (const s of subs) s.expected.push(op);
          }
        }
        bc.close();
        for (const s of subs) assert.deepEqual(await drain(s.it), s.expected);
      },
    ),
    { numRuns: 100 },
  );
});

test("broadcast: subscriberCount is 0 once closed, while queues still drain", async () => {
  const bc = new BroadcastChannel<number>();
  const sub = bc.subscribe();
  await bc.send(1);
  bc.close();
  assert.equal(bc.subscriberCount, 0);
  assert.deepEqual(await drain(sub), [1]);
});
