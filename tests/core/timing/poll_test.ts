// poll(fn, onValue, options) and scope.poll(...).
import { test } from "node:test";
import assert from "node:assert/strict";
import { poll, scope } from "../../../src/core/mod.ts";
import { countedSignal } from "../_listeners.ts";
import { dispose, recordingLogger, sleep, untilAborted } from "../_helpers.ts";
import { waitFor } from "../_wait.ts";

test("poll: polls at once, then every interval, passing each value to onValue", async () => {
  let n = 0;
  const seen: number[] = [];
  const poller = poll(() => ++n, (v) => {
    seen.push(v);
  }, { interval: 10 });
  await sleep(0);
  assert.deepEqual(seen, [1], "the first poll is immediate");
  await waitFor(() => seen.length >= 3);
  poller.stop();
  assert.deepEqual(seen, seen.map((_, i) => i + 1));
  assert.equal(poller.status().pollCount, seen.length);
});

test("poll: status() reports running, pollCount and timeUntilNext", async () => {
  const poller = poll(() => 1, () => {}, { interval: 1000 });
  await sleep(5);
  const s = poller.status();
  assert.equal(s.running, true);
  assert.equal(s.pollCount, 1);
  assert.ok(s.timeUntilNext > 0 && s.timeUntilNext <= 1000, `timeUntilNext ${s.timeUntilNext}`);
  assert.equal(typeof s.lastPollTime, "number");
  assert.equal(typeof s.nextPollTime, "number");
  poller.stop();
  const stopped = poller.status();
  assert.equal(stopped.running, false);
  assert.equal(stopped.timeUntilNext, 0);
  assert.equal(stopped.nextPollTime, undefined);
});

test("poll: immediate: false waits for start(), then one interval", async () => {
  let calls = 0;
  const poller = poll(() => ++calls, () => {}, { interval: 15, immediate: false });
  await sleep(25);
  assert.equal(calls, 0);
  assert.equal(poller.status().running, false);
  poller.start();
  assert.equal(poller.status().running, true);
  assert.ok(poller.status().timeUntilNext > 0);
  await sleep(5);
  assert.equal(calls, 0, "the first poll comes one interval after start()");
  await waitFor(() => calls >= 1);
  poller.stop();
});

test("poll: stop() stops, start() resumes, and a value in flight at stop() is dropped", async () => {
  let gate!: () => void;
  const seen: string[] = [];
  const poller = poll(
    () => new Promise<string>((resolve) => gate = () => resolve("late")),
    (v) => {
      seen.push(v);
    },
    { interval: 5 },
  );
  poller.stop();
  gate();
  await sleep(15);
  assert.deepEqual(seen, []);
  assert.equal(poller.status().pollCount, 1);
  poller.start();
  await sleep(0);
  gate();
  await sleep(0);
  assert.deepEqual(seen, ["late"]);
  poller[Symbol.dispose]();
  gate();
});

test("poll: errors of fn and onValue are reported and polling goes on", async () => {
  const errors: unknown[] = [];
  let n = 0;
  const poller = poll(() => {
    n++;
    if (n === 1) throw new Error("fn failed");
    return n;
  }, (v) => {
    if (v === 2) throw new Error("onValue failed");
  }, { interval: 5, onError: (e) => errors.push(e) });
  await waitFor(() => n >= 3);
  poller.stop();
  assert.deepEqual(errors.map((e) => (e as Error).message), ["fn failed", "onValue failed"]);
});

test("poll: the signal stops it for good, aborts fn's signal, and its listener is removed", async () => {
  const counted = countedSignal();
  let fnSignal: AbortSignal | undefined;
  const poller = poll(
    ({ signal }) => {
      fnSignal = signal;
      return 1;
    },
    () => {},
    { interval: 5, signal: counted.signal },
  );
  assert.equal(counted.live, 1);
  await sleep(0);
  assert.equal(fnSignal, counted.signal);
  counted.controller.abort("bye");
  assert.equal(poller.status().running, false);
  assert.equal(counted.live, 0);
  poller.start();
  assert.equal(poller.status().running, false, "an ended poll does not restart");
});

test("poll: disposing (using) stops it and removes the listener on its signal", () => {
  const counted = countedSignal();
  {
    using poller = poll(() => 1, () => {}, { interval: 5, signal: counted.signal });
    assert.equal(poller.status().running, true);
  }
  assert.equal(counted.live, 0);
});

test("poll: an aborted signal throws its reason", () => {
  const reason = new Error("already");
  assert.throws(
    () => poll(() => 1, () => {}, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});

test("poll: bad input is a clear TypeError or RangeError", () => {
  assert.throws(() => poll(1 as unknown as () => number, () => {}), {
    name: "TypeError",
    message: 'Cannot poll: "fn" must be a function, received 1',
  });
  assert.throws(() => poll(() => 1, undefined as unknown as () => void), { name: "TypeError" });
  assert.throws(() => poll(() => 1, () => {}, { interval: -1 }), {
    name: "RangeError",
    message: 'Cannot poll: "interval" must be a finite number of milliseconds > 0, received -1',
  });
  assert.throws(() => poll(() => 1, () => {}, { intervall: 5 } as never), {
    name: "TypeError",
    message: /unknown option "intervall"/,
  });
  assert.throws(() => poll(() => 1, () => {}, { immediate: "yes" } as never), {
    name: "TypeError",
    message: 'Cannot poll: "immediate" must be a boolean, received "yes"',
  });
  assert.throws(() => poll(() => 1, () => {}, { signal: {} } as never), { name: "TypeError" });
});

test("scope.poll: each poll is a task of the scope with its context", async () => {
  const s = scope({ context: { region: "eu" } });
  const seen: unknown[] = [];
  const poller = s.poll(({ context }) => context.region, (v) => {
    seen.push(v);
  }, { interval: 5 });
  await sleep(0);
  poller.stop();
  assert.deepEqual(seen, ["eu"]);
  await dispose(s);
});

test("scope.poll: disposing the scope stops polling, aborts the poll in flight and leaves no timer", async () => {
  const s = scope();
  let aborted = false;
  const poller = s.poll(
    ({ signal }) => untilAborted(signal).catch(() => aborted = true),
    () => {},
    {
      interval: 5,
    },
  );
  await sleep(0);
  assert.equal(s.taskCount, 1);
  await dispose(s);
  assert.equal(aborted, true);
  assert.equal(poller.status().running, false);
  assert.equal(s.taskCount, 0);
});

test("scope.poll: failures go to the scope's logger; a cancelled poll is not logged", async () => {
  const logger = recordingLogger();
  const s = scope({ logger, name: "poller" });
  let n = 0;
  s.poll(
    ({ signal }) => {
      if (++n === 1) throw new Error("flaky");
      return untilAborted(signal);
    },
    () => {},
    { interval: 5 },
  );
  await sleep(20);
  await dispose(s);
  const errors = logger.calls.filter((c) => c.level === "error");
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.msg ?? "", /poll\(\): a poll failed/);
  assert.equal((errors[0]!.obj as { scope: string }).scope, "poller");
});

test("scope.poll: on an aborted scope it throws the scope's reason", async () => {
  const s = scope();
  const reason = new Error("gone");
  s.cancel(reason);
  assert.throws(() => s.poll(() => 1, () => {}), (e) => e === reason);
  await dispose(s);
});

test("scope.poll: its own signal also stops it, and its listener is removed", async () => {
  const s = scope();
  const counted = countedSignal();
  const poller = s.poll(() => 1, () => {}, { interval: 5, signal: counted.signal });
  counted.controller.abort();
  assert.equal(poller.status().running, false);
  assert.equal(counted.live, 0);
  await dispose(s);
});
