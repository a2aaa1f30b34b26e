// scope.channel() and Channel: buffer forms, backpressure, rendezvous, close,
// iteration, disposal. One named test per rule of core_contract.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AbortError, Channel, ChannelFullError, scope } from "../../../src/core/mod.ts";
import { dispose, sleep, tick } from "../_helpers.ts";

/** Tracks whether a promise has settled yet. */
function track<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  const promise = p.finally(() => {
    done = true;
  });
  return { settled: () => done, promise };
}

test("channel: { buffer } sets the capacity", async () => {
  const s = scope();
  const ch = s.channel<number>({ buffer: 100 });
  assert.equal(ch.capacity, 100);
  for (let i = 0; i < 100; i++) assert.equal(await ch.send(i), true);
  assert.equal(ch.size, 100);
  await dispose(s);
});

test("channel: { capacity } is an alias of buffer, and a plain number works too", async () => {
  const s = scope();
  assert.equal(s.channel({ capacity: 3 }).capacity, 3);
  assert.equal(s.channel(5).capacity, 5);
  assert.equal(new Channel<number>(2).capacity, 2);
  await dispose(s);
});

test("channel: the default capacity is 0 (rendezvous)", async () => {
  const s = scope();
  assert.equal(s.channel().capacity, 0);
  await dispose(s);
});

test("channel: values are received in the order they were sent", async () => {
  const s = scope();
  const ch = s.channel<number>(3);
  await ch.send(1);
  await ch.send(2);
  await ch.send(3);
  assert.deepEqual([await ch.receive(), await ch.receive(), await ch.receive()], [1, 2, 3]);
  await dispose(s);
});

test("channel: a send that arrives before the receiver is delivered (capacity 0)", async () => {
  const s = scope();
  const ch = s.channel<string>();
  const sent = track(ch.send("hello"));
  await tick();
  assert.equal(sent.settled(), false, "a rendezvous send waits for a receiver");
  assert.equal(await ch.receive(), "hello");
  assert.equal(await sent.promise, true);
  await dispose(s);
});

test("channel: a receive that arrives before the sender is delivered (capacity 0)", async () => {
  const s = scope();
  const ch = s.channel<string>();
  const received = ch.receive();
  assert.equal(await ch.send("hi"), true);
  assert.equal(await received, "hi");
  await dispose(s);
});

test("channel: block waits while the buffer is full and resumes when there is room", async () => {
  const s = scope();
  const ch = s.channel<number>({ buffer: 1 });
  assert.equal(await ch.send(1), true);
  const second = track(ch.send(2));
  await tick();
  assert.equal(second.settled(), false);
  assert.equal(await ch.receive(), 1);
  assert.equal(await second.promise, true);
  assert.equal(await ch.receive(), 2);
  await dispose(s);
});

test("channel: drop-oldest discards the oldest buffered value and calls onDrop", async () => {
  const s = scope();
  const dropped: number[] = [];
  const ch = s.channel<number>({
    buffer: 2,
    backpressure: "drop-oldest",
    onDrop: (v) => dropped.push(v),
  });
  for (const v of [1, 2, 3, 4]) assert.equal(await ch.send(v), true);
  assert.deepEqual(dropped, [1, 2]);
  assert.deepEqual([await ch.receive(), await ch.receive()], [3, 4]);
  await dispose(s);
});

test("channel: drop-latest discards the value being sent, resolves false and calls onDrop", async () => {
  const s = scope();
  const dropped: number[] = [];
  const ch = s.channel<number>({
    buffer: 2,
    backpressure: "drop-latest",
    onDrop: (v) => dropped.push(v),
  });
  assert.equal(await ch.send(1), true);
  assert.equal(await ch.send(2), true);
  assert.equal(await ch.send(3), false);
  assert.deepEqual(dropped, [3]);
  assert.deepEqual([await ch.receive(), await ch.receive()], [1, 2]);
  await dispose(s);
});

test("channel: error backpressure rejects with ChannelFullError when full", async () => {
  const s = scope();
  const ch = s.channel<number>({ buffer: 1, backpressure: "error" });
  assert.equal(await ch.send(1), true);
  await assert.rejects(
    ch.send(2),
    (e) => e instanceof ChannelFullError && /capacity 1/.test(e.message),
  );
  assert.equal(ch.size, 1);
  await dispose(s);
});

test("channel: a throwing onDrop does not break the channel", async () => {
  const s = scope({
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const ch = s.channel<number>({
    buffer: 1,
    backpressure: "drop-latest",
    onDrop: () => {
      throw new Error("observer broke");
    },
  });
  await ch.send(1);
  assert.equal(await ch.send(2), false);
  assert.equal(await ch.receive(), 1);
  await dispose(s);
});

test("channel: close() keeps buffered values receivable, then receive() gives undefined", async () => {
  const s = scope();
  const ch = s.channel<number>(3);
  await ch.send(1);
  await ch.send(2);
  ch.close();
  assert.equal(ch.isClosed, true);
  assert.equal(await ch.receive(), 1);
  assert.equal(await ch.receive(), 2);
  assert.equal(await ch.receive(), undefined);
  assert.equal(await ch.receive(), undefined);
  await dispose(s);
});

test("channel: close() is idempotent", async () => {
  const s = scope();
  const ch = s.channel<number>(1);
  await ch.send(1);
  ch.close();
  ch.close();
  assert.equal(await ch.receive(), 1);
  await dispose(s);
});

test("channel: waiting senders resolve false on close", async () => {
  const s = scope();
  const ch = s.channel<number>();
  const a = ch.send(1);
  const b = ch.send(2);
  ch.close();
  assert.deepEqual(await Promise.all([a, b]), [false, false]);
  assert.equal(await ch.receive(), undefined);
  await dispose(s);
});

test("channel: waiting receivers get undefined on close", async () => {
  const s = scope();
  const ch = s.channel<number>();
  const r = ch.receive();
  ch.close();
  assert.equal(await r, undefined);
  await dispose(s);
});

test("channel: sends after close resolve false", async () => {
  const s = scope();
  const ch = s.channel<number>(5);
  ch.close();
  assert.equal(await ch.send(1), false);
  assert.equal(ch.size, 0);
  await dispose(s);
});

test("channel: undefined is refused with a TypeError", async () => {
  const s = scope();
  const ch = s.channel<number | undefined>(1);
  assert.throws(() => ch.send(undefined), TypeError);
  assert.equal(ch.size, 0);
  await dispose(s);
});

test("channel: for await yields every value in order and ends when closed and drained", async () => {
  const s = scope();
  const ch = s.channel<number>({ buffer: 2 });
  s.task(async () => {
    for (let i = 1; i <= 5; i++) await ch.send(i);
    ch.close();
  });
  const seen: number[] = [];
  for await (const v of ch) seen.push(v);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  await dispose(s);
});

test("channel: the seed's streaming shape works: un-awaited producer, buffer 100, for await", async () => {
  const s = scope();
  const ch = s.channel<string>({ buffer: 100 });
  s.task(async () => {
    for (let i = 0; i < 150; i++) await ch.send(`event ${i}`);
    ch.close();
  });
  let count = 0;
  for await (const _ of ch) count++;
  assert.equal(count, 150);
  await dispose(s);
});

test("channel: for await ends quietly when the scope aborts", async () => {
  const s = scope();
  const ch = s.channel<number>(10);
  await ch.send(1);
  const seen: number[] = [];
  const loop = (async () => {
    for await (const v of ch) seen.push(v);
    return "ended";
  })();
  await tick();
  s.cancel(new Error("client left"));
  assert.equal(await loop, "ended");
  assert.deepEqual(seen, [1]);
  assert.equal(ch.isClosed, true);
  await dispose(s);
});

test("channel: the channel closes when its scope is disposed", async () => {
  const s = scope();
  const ch = s.channel<number>(1);
  await dispose(s);
  assert.equal(ch.isClosed, true);
  assert.equal(await ch.send(1), false);
  assert.equal(await ch.receive(), undefined);
});

test("channel: waiting sends reject with the scope's reason on dispose", async () => {
  const s = scope();
  const ch = s.channel<number>();
  const waiting = ch.send(1);
  const rejected = assert.rejects(waiting, (e) => e === s.signal.reason && e instanceof AbortError);
  await dispose(s);
  await rejected;
});

test("channel: waiting sends reject with the cancel reason when the scope is cancelled", async () => {
  const s = scope();
  const ch = s.channel<number>(1);
  await ch.send(1);
  const waiting = ch.send(2);
  const reason = new Error("cancelled");
  s.cancel(reason);
  await assert.rejects(waiting, (e) => e === reason);
  await dispose(s);
});

test("channel: a channel created on a disposed scope is closed", async () => {
  const s = scope();
  await dispose(s);
  const ch = s.channel<number>(1);
  assert.equal(ch.isClosed, true);
  assert.equal(await ch.send(1), false);
});

test("channel: [Symbol.asyncDispose] closes it", async () => {
  const ch = new Channel<number>(1);
  await ch.send(1);
  await ch[Symbol.asyncDispose]();
  assert.equal(ch.isClosed, true);
  assert.equal(await ch.receive(), 1);
  assert.equal(await ch.receive(), undefined);
});

test("channel: a blocked sender is delivered when a receiver drains the buffer (capacity 1)", async () => {
  const s = scope();
  const ch = s.channel<number>(1);
  const results: boolean[] = [];
  const producer = s.task(async () => {
    for (let i = 0; i < 4; i++) results.push(await ch.send(i));
    ch.close();
  });
  const got: number[] = [];
  for (let v = await ch.receive(); v !== undefined; v = await ch.receive()) {
    got.push(v);
    await sleep(1);
  }
  await producer;
  assert.deepEqual(got, [0, 1, 2, 3]);
  assert.deepEqual(results, [true, true, true, true]);
  await dispose(s);
});

test("channel: leaving a for-await loop early closes the channel and releases blocked senders", async () => {
  const s = scope();
  const ch = s.channel<number>({ buffer: 1 });
  const sent: Promise<boolean>[] = [];
  for (let i = 1; i <= 3; i++) sent.push(ch.send(i)); // 1 buffered, 2 and 3 blocked
  const seen: number[] = [];
  for await (const n of ch) {
    seen.push(n);
    break;
  }
  assert.deepEqual(seen, [1]);
  assert.equal(ch.isClosed, true);
  // 2 moved into the buffer when 1 was received; 3 was still waiting: it learns the consumer left.
  assert.deepEqual(await Promise.all(sent), [true, true, false]);
  assert.equal(await ch.send(4), false);
  await dispose(s);
});

// ---- go-go-scope names, 'sample' backpressure, ordering properties ----

test("channel: cap and strategy are go-go-scope's names for capacity and backpressure", async () => {
  const s = scope();
  const ch = s.channel<number>({ capacity: 5, backpressure: "error" });
  assert.equal(ch.cap, 5);
  assert.equal(ch.strategy, "error");
  assert.equal(s.channel().strategy, "block");
  assert.equal(s.channel(3).cap, 3);
  await dispose(s);
});

test("channel: sample keeps the values sent within the window, in order", async () => {
  const s = scope();
  const ch = s.channel<number>({ capacity: 10, backpressure: "sample", sampleWindow: 1000 });
  assert.equal(await ch.send(1), true);
  assert.equal(await ch.send(2), true);
  assert.equal(await ch.send(3), true);
  assert.equal(ch.size, 3);
  assert.deepEqual([await ch.receive(), await ch.receive(), await ch.receive()], [1, 2, 3]);
  await dispose(s);
});

test("channel: sample expires values older than sampleWindow to onDrop", async () => {
  const s = scope();
  const dropped: number[] = [];
  const ch = s.channel<number>({
    capacity: 10,
    backpressure: "sample",
    sampleWindow: 20,
    onDrop: (v) => dropped.push(v),
  });
  await ch.send(1);
  await ch.send(2);
  await sleep(40);
  await ch.send(3);
  assert.deepEqual(dropped, [1, 2], "the send after the window expired the old values");
  assert.equal(await ch.receive(), 3);
  await dispose(s);
});

test("channel: sample expiry is also seen by receive() and size", async () => {
  const s = scope();
  const dropped: string[] = [];
  const ch = s.channel<string>({
    backpressure: "sample",
    sampleWindow: 20,
    onDrop: (v) => dropped.push(v),
  });
  await ch.send("old");
  await sleep(40);
  assert.equal(ch.size, 0);
  assert.deepEqual(dropped, ["old"]);
  await ch.send("stale");
  await sleep(40);
  ch.close();
  assert.equal(await ch.receive(), undefined, "an expired value is never received");
  assert.deepEqual(dropped, ["old", "stale"]);
  await dispose(s);
});

test("channel: sample never blocks; a capacity above 0 keeps only the newest values", async () => {
  const s = scope();
  const dropped: number[] = [];
  const ch = s.channel<number>({
    capacity: 2,
    backpressure: "sample",
    onDrop: (v) => dropped.push(v),
  });
  for (let i = 1; i <= 5; i++) assert.equal(await ch.send(i), true);
  assert.equal(ch.size, 2);
  assert.deepEqual(dropped, [1, 2, 3]);
  assert.deepEqual([await ch.receive(), await ch.receive()], [4, 5]);
  await dispose(s);
});

test("channel: sample with capacity 0 buffers every value within the window", async () => {
  const s = scope();
  const ch = s.channel<number>({ backpressure: "sample", sampleWindow: 1000 });
  for (let i = 0; i < 50; i++) await ch.send(i);
  assert.equal(ch.size, 50);
  const waiting = ch.receive();
  assert.equal(await waiting, 0);
  await dispose(s);
});

test("channel: sample hands a value straight to a waiting receiver", async () => {
  const s = scope();
  const dropped: number[] = [];
  const ch = s.channel<number>({ backpressure: "sample", onDrop: (v) => dropped.push(v) });
  const got = ch.receive();
  assert.equal(await ch.send(7), true);
  assert.equal(await got, 7);
  assert.equal(ch.size, 0);
  assert.deepEqual(dropped, []);
  await dispose(s);
});

test("channel: sample defaults sampleWindow to 1000 ms and disposal leaves no timer", async () => {
  const s = scope();
  const ch = s.channel<number>({ backpressure: "sample" });
  await ch.send(1);
  await sleep(5);
  assert.equal(ch.size, 1, "5 ms is well inside the default window");
  await dispose(s);
  assert.equal(ch.isClosed, true);
  assert.equal(ch.size, 0, "the scope's abort discards the buffer");
});

test("channel: sampleWindow is validated and refused outside 'sample' mode", () => {
  for (const bad of [0, -1, Number.NaN, Infinity]) {
    assert.throws(
      () => new Channel({ backpressure: "sample", sampleWindow: bad }),
      RangeError,
    );
  }
  assert.throws(
    () => new Channel({ backpressure: "sample", sampleWindow: "1s" as unknown as number }),
    (e: unknown) => e instanceof TypeError && /"sampleWindow" must be/.test(e.message),
  );
  assert.throws(
    () => new Channel({ buffer: 1, sampleWindow: 100 }),
    (e: unknown) =>
      e instanceof TypeError && /"sampleWindow" only applies with backpressure 'sample'/.test(
        e.message,
      ),
  );
});

test("channel (property): values arrive in send order under random sends and receives", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 4 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
      async (capacity, ops) => {
        const s = scope();
        const ch = s.channel<number>(capacity);
        const sent: Promise<boolean>[] = [];
        const received: Promise<number | undefined>[] = [];
        let next = 0;
        for (const isSend of ops) {
          if (isSend) sent.push(ch.send(next++));
          else received.push(ch.receive());
          if (next % 3 === 0) await Promise.resolve();
        }
        ch.close();
        // Whatever stayed buffered is still receivable after close().
        for (let v = await ch.receive(); v !== undefined; v = await ch.receive()) {
          received.push(Promise.resolve(v));
        }
        const got = (await Promise.all(received)).filter((v) => v !== undefined);
        const accepted = await Promise.all(sent);
        const delivered = accepted.flatMap((ok, i) => ok ? [i] : []);
        assert.deepEqual(got, delivered, "every accepted value arrives once, in order");
        await dispose(s);
      },
    ),
    { numRuns: 150 },
  );
});

test("channel (property): drop-oldest keeps the newest values, dropping the rest in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 30 }),
      async (capacity, n) => {
        const dropped: number[] = [];
        const ch = new Channel<number>({
          capacity,
          backpressure: "drop-oldest",
          onDrop: (v) => dropped.push(v),
        });
        for (let i = 0; i < n; i++) await ch.send(i);
        ch.close();
        const kept: number[] = [];
        for await (const v of ch) kept.push(v);
        assert.deepEqual([...dropped, ...kept], Array.from({ length: n }, (_, i) => i));
        assert.equal(kept.length, Math.min(n, capacity));
      },
    ),
    { numRuns: 100 },
  );
});
