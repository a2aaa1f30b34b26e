// scope.select(): the first ready channel's handler runs; the others keep their
// values; timeout, abort and closed channels end the wait; nothing is left
// registered on any channel afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AbortError, Channel, scope, TimeoutError } from "../../../src/core/mod.ts";
import { dispose, sleep, tick } from "../_helpers.ts";

test("select: a channel that already holds a value wins at once", async () => {
  const s = scope();
  const a = s.channel<number>(1);
  const b = s.channel<number>(1);
  await b.send(2);
  const [err, got] = await s.select(
    new Map([[a, (v: number) => `a${v}`], [b, (v: number) => `b${v}`]]),
  );
  assert.equal(err, undefined);
  assert.equal(got, "b2");
  await dispose(s);
});

test("select: among ready channels the first in the map wins; the others keep their values", async () => {
  const s = scope();
  const a = s.channel<number>(1);
  const b = s.channel<number>(1);
  await a.send(1);
  await b.send(2);
  const [, got] = await s.select(new Map([[a, (v: number) => v], [b, (v: number) => v]]));
  assert.equal(got, 1);
  assert.equal(b.size, 1);
  assert.equal(await b.receive(), 2);
  await dispose(s);
});

test("select: waits for the first channel to receive a value; the losers lose nothing", async () => {
  const s = scope();
  const a = s.channel<string>();
  const b = s.channel<string>();
  const result = s.select(
    new Map<Channel<string>, (v: string) => string | Promise<string>>([
      [a, (v) => `a:${v}`],
      [b, async (v) => `b:${v}`],
    ]),
  );
  await tick();
  assert.equal(await b.send("x"), true);
  assert.deepEqual(await result, [undefined, "b:x"]);
  // a's waiter was withdrawn: a later send on a is not swallowed by the finished select.
  const sent = a.send("kept");
  assert.equal(await a.receive(), "kept");
  assert.equal(await sent, true);
  await dispose(s);
});

test("select: a blocked sender counts as ready (rendezvous channel)", async () => {
  const s = scope();
  const a = s.channel<number>();
  const sent = a.send(5);
  assert.deepEqual(await s.select(new Map([[a, (v: number) => v + 1]])), [undefined, 6]);
  assert.equal(await sent, true);
  await dispose(s);
});

test("select: a handler's throw or rejection comes back as the Result's error", async () => {
  const s = scope();
  const a = s.channel<number>(2);
  await a.send(1);
  await a.send(2);
  const boom = new Error("boom");
  assert.deepEqual(
    await s.select(
      new Map([[a, () => {
        throw boom;
      }]]),
    ),
    [boom, undefined],
  );
  assert.deepEqual(await s.select(new Map([[a, () => Promise.reject(boom)]])), [boom, undefined]);
  await dispose(s);
});

test("select: timeout resolves [TimeoutError] and withdraws every waiter", async () => {
  const s = scope();
  const a = s.channel<number>();
  const [err, value] = await s.select(new Map([[a, (v: number) => v]]), { timeout: 20 });
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.timeout, 20);
  assert.match(err.message, /select exceeded its timeout of 20 ms/);
  assert.equal(value, undefined);
  const sent = a.send(1);
  await tick();
  assert.equal(a.size, 0, "nothing took the value: the send is still waiting for a receiver");
  assert.equal(await a.receive(), 1);
  assert.equal(await sent, true);
  await dispose(s);
});

test("select: a value before the timeout wins and clears the timer", async () => {
  const s = scope();
  const a = s.channel<number>();
  const result = s.select(new Map([[a, (v: number) => v]]), { timeout: 5000 });
  await a.send(3);
  // Deno's sanitizer fails this test if the 5 s timer were left running.
  assert.deepEqual(await result, [undefined, 3]);
  await dispose(s);
});

test("select: when every channel is closed and drained the result is an error", async () => {
  const s = scope();
  const a = s.channel<number>(1);
  const b = s.channel<number>(1);
  await a.send(1);
  a.close();
  b.close();
  const cases = new Map([[a, (v: number) => v], [b, (v: number) => v]]);
  assert.deepEqual(await s.select(cases), [undefined, 1], "a closed channel still drains");
  const [err] = await s.select(cases);
  assert.ok(err instanceof Error);
  assert.equal(err.message, "All channels are closed");
  await dispose(s);
});

test("select: a closed channel is never ready; the wait ends when the last one closes", async () => {
  const s = scope();
  const a = s.channel<number>();
  const b = s.channel<number>();
  a.close();
  const result = s.select(new Map([[a, (v: number) => v], [b, (v: number) => v]]));
  await tick();
  b.close();
  const [err] = await result;
  assert.equal(err?.message, "All channels are closed");
  await dispose(s);
});

test("select: a channel closing while others stay open keeps the wait going", async () => {
  const s = scope();
  const a = s.channel<number>();
  const b = s.channel<number>();
  const result = s.select(new Map([[a, (v: number) => `a${v}`], [b, (v: number) => `b${v}`]]));
  await tick();
  a.close();
  await b.send(9);
  assert.deepEqual(await result, [undefined, "b9"]);
  await dispose(s);
});

test("select: the scope's disposal ends the wait with its reason", async () => {
  const s = scope();
  const outside = new Channel<number>();
  const result = s.select(new Map([[outside, (v: number) => v]]), { timeout: 5000 });
  await tick();
  await dispose(s);
  const [err] = await result;
  assert.ok(err instanceof AbortError);
  const sent = outside.send(1);
  assert.equal(await outside.receive(), 1, "the select's receiver was withdrawn");
  assert.equal(await sent, true);
});

test("select: a cancel reason wins over the closing of the scope's own channels", async () => {
  const s = scope();
  const own = s.channel<number>();
  const result = s.select(new Map([[own, (v: number) => v]]));
  await tick();
  const reason = new Error("stop");
  s.cancel(reason);
  assert.deepEqual(await result, [reason, undefined]);
  await dispose(s);
});

test("select: on an aborted scope it resolves the reason without touching the channels", async () => {
  const s = scope();
  const outside = new Channel<number>(1);
  await outside.send(1);
  await dispose(s);
  const [err] = await s.select(new Map([[outside, (v: number) => v]]));
  assert.ok(err instanceof AbortError);
  assert.equal(outside.size, 1);
});

test("select: bad input is refused at once", async () => {
  const s = scope();
  const ch = s.channel<number>();
  const bad = (v: unknown) => v as Map<Channel<number>, (v: number) => number>;
  assert.throws(() => s.select(bad([[ch, () => 1]])), /"cases" must be a Map/);
  assert.throws(() => s.select(bad(new Map([[{}, () => 1]]))), /"cases key" must be a Channel/);
  assert.throws(() => s.select(bad(new Map([[ch, 1]]))), /"cases value" must be a function/);
  const cases = new Map([[ch, (v: number) => v]]);
  assert.throws(() => s.select(cases, { timeout: -1 }), RangeError);
  assert.throws(() => s.select(cases, { timout: 5 } as never), /unknown option "timout"/);
  await dispose(s);
});

test("select (property): repeated selects deliver every value exactly once", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 30 }),
      async (targets) => {
        const s = scope();
        const chans = [s.channel<number>(), s.channel<number>(2), s.channel<number>(5)];
        const cases = new Map(chans.map((ch, i) => [ch, (v: number) => [i, v] as const]));
        const sends = targets.map((t, v) => chans[t]!.send(v));
        const got: (readonly [number, number])[] = [];
        for (let n = 0; n < targets.length; n++) {
          const [err, pair] = await s.select(cases);
          assert.equal(err, undefined);
          got.push(pair!);
        }
        await Promise.all(sends);
        assert.deepEqual(
          got.map(([, v]) => v).sort((x, y) => x - y),
          targets.map((_, v) => v),
        );
        for (const [i, v] of got) assert.equal(targets[v], i, "a value comes from its channel");
        for (let i = 0; i < 3; i++) {
          const fromI = got.filter(([c]) => c === i).map(([, v]) => v);
          assert.deepEqual(fromI, [...fromI].sort((x, y) => x - y), "per channel, in order");
        }
        await dispose(s);
      },
    ),
    { numRuns: 100 },
  );
  await sleep(0);
});

test("select: an empty Map resolves to an error at once, in go-go-scope's words", async () => {
  await using s = scope();
  const [err, value] = await s.select(new Map());
  assert.ok(err instanceof Error);
  assert.equal(err.message, "select called with no cases");
  assert.equal(value, undefined);
});
