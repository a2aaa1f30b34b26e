// ScopedEventEmitter: on/off/once, emit counts, emitAsync, handler errors
// logged, listeners removed on dispose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createEventEmitter, scope } from "../../../src/core/mod.ts";
import { dispose, recordingLogger } from "../_helpers.ts";

type Events = { saved: (id: number) => void; closed: () => void };

test("eventEmitter: handlers get the arguments; emit returns how many ran", async () => {
  await using s = scope();
  const e = s.eventEmitter<Events>();
  const seen: number[] = [];
  e.on("saved", (id) => seen.push(id));
  e.on("saved", (id) => seen.push(id * 10));
  assert.equal(e.emit("saved", 2), 2);
  assert.deepEqual(seen, [2, 20]);
  assert.equal(e.emit("closed"), 0);
  assert.deepEqual(e.eventNames(), ["saved"]);
});

test("eventEmitter: the returned function and off remove a handler; once runs once", async () => {
  await using s = scope();
  const e = s.eventEmitter<Events>();
  let n = 0;
  const off = e.on("closed", () => n++);
  e.once("saved", () => n += 100);
  e.emit("saved", 1);
  e.emit("saved", 1);
  off();
  e.emit("closed");
  assert.equal(n, 100);
  assert.equal(e.hasListeners("saved"), false);
});

test("eventEmitter: a throwing handler is logged and not counted; the others run", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger });
  const e = s.eventEmitter<Events>();
  let ran = false;
  e.on("closed", () => {
    throw new Error("bad handler");
  });
  e.on("closed", () => (ran = true));
  assert.equal(e.emit("closed"), 1);
  assert.equal(ran, true);
  assert.equal(logger.calls[0]?.msg, "event handler threw");
});

test("eventEmitter: emitAsync waits for async handlers; a rejecting one is logged, not counted", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger });
  const e = s.eventEmitter<{ job: () => Promise<void> }>();
  let done = false;
  e.on("job", async () => {
    await s.delay(1);
    done = true;
  });
  e.on("job", () => Promise.reject(new Error("no")));
  assert.equal(await e.emitAsync("job"), 1);
  assert.equal(done, true);
  assert.equal(logger.calls[0]?.msg, "event handler threw");
});

test("eventEmitter: disposing the scope removes every listener and stops emits", async () => {
  const s = scope();
  const e = createEventEmitter<Events>(s);
  e.on("saved", () => {});
  await dispose(s);
  assert.equal(e.listenerCount("saved"), 0);
  assert.equal(e.emit("saved", 1), 0);
  assert.throws(() => e.on("saved", () => {}), {
    message: "Cannot subscribe to disposed EventEmitter",
  });
});
