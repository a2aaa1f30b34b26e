// GracefulShutdownController and the gracefulShutdown option: signals from an
// injected source, callbacks in order, the scope cancelled and disposed,
// listeners removed, timeout, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GracefulShutdownController, scope, type SignalSource } from "../../../src/core/mod.ts";
import { deferred, dispose, recordingLogger } from "../_helpers.ts";

function fakeSignals(): SignalSource & { emit(signal: string): void; count(): number } {
  const listeners = new Map<string, Set<(s: string) => void>>();
  return {
    on(signal, fn) {
      if (!listeners.has(signal)) listeners.set(signal, new Set());
      listeners.get(signal)!.add(fn);
    },
    off(signal, fn) {
      listeners.get(signal)?.delete(fn);
    },
    emit(signal) {
      for (const fn of [...(listeners.get(signal) ?? [])]) fn(signal);
    },
    count: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
  };
}

test("gracefulShutdown: a signal runs onShutdown, cancels and disposes the scope, then onComplete", async () => {
  const source = fakeSignals();
  const order: string[] = [];
  const s = scope({
    name: "app",
    gracefulShutdown: {
      signalSource: source,
      exit: false,
      onShutdown: (signal) => void order.push(`shutdown:${signal}`),
      onComplete: () => void order.push("complete"),
    },
  });
  s.onDispose(() => void order.push("cleanup"));
  const task = s.task(({ signal }) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
  );
  assert.equal(source.count(), 2);
  source.emit("SIGINT");
  assert.equal(s.isShutdownRequested, true);
  const [err] = await task;
  assert.equal(err?.message, "Shutdown requested: SIGINT");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(order, ["shutdown:SIGINT", "cleanup", "complete"]);
  assert.equal(s.isDisposed, true);
  assert.equal(source.count(), 0);
});

test("gracefulShutdown: shutdown() twice returns the same completion; a slow disposal hits the timeout", async () => {
  const logger = recordingLogger();
  const s = scope({ logger });
  const gate = deferred();
  s.onDispose(() => gate.promise);
  const c = new GracefulShutdownController(s, { signals: [], exit: false, timeout: 10 });
  const first = c.shutdown();
  assert.equal(c.shutdown(), first);
  await first; // resolved by the timeout while the cleanup still waits
  assert.equal(c.isShutdownRequested, true);
  assert.equal(logger.calls.at(-1)?.msg, "graceful shutdown timed out");
  gate.resolve();
  await dispose(s);
});

test("gracefulShutdown: disposing the scope removes its signal listeners", async () => {
  const source = fakeSignals();
  const s = scope({
    gracefulShutdown: { signalSource: source, signals: ["SIGTERM"], exit: false },
  });
  assert.equal(source.count(), 1);
  await dispose(s);
  assert.equal(source.count(), 0);
  assert.equal(s.isShutdownRequested, false);
});

test("gracefulShutdown: bad options throw naming the option", () => {
  assert.throws(() => scope({ gracefulShutdown: { timeout: -1 } }), {
    message: /Cannot set up graceful shutdown: "timeout"/,
  });
  assert.throws(() => scope({ gracefulShutdown: { signalSource: {} as never } }), {
    message: /"signalSource" must be an object with on and off methods/,
  });
  assert.throws(() => scope({ gracefulShutdown: { exitCode: 1 } as never }), {
    message: /unknown option "exitCode"/,
  });
});

test("gracefulShutdown: the scope reaches its controller (also as _shutdownController, go-go-scope's name)", async () => {
  const source = fakeSignals();
  let completed = false;
  const s = scope({
    gracefulShutdown: {
      signalSource: source,
      signals: [],
      exit: false,
      onComplete: () => void (completed = true),
    },
  });
  const controller = s.shutdownController;
  assert.ok(controller instanceof GracefulShutdownController);
  assert.equal(s._shutdownController, controller);
  assert.equal(s.isShutdownRequested, false);
  await controller.shutdown();
  assert.equal(s.isShutdownRequested, true);
  assert.equal(completed, true);
  assert.equal(s.isDisposed, true);
  await using plain = scope();
  assert.equal(plain.shutdownController, undefined);
  assert.equal(plain._shutdownController, undefined);
});
