// How the core writes to loggers: pino's (obj, msg) to loggers with child(),
// go-go-scope's (message, ...args) to the others; per-task loggers; the
// settable scope.logger; the default console logger.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Logger, scope } from "../../../src/core/mod.ts";
import { messageLogger, recordingLogger } from "../_helpers.ts";

test("loggers: the core's own entries reach a logger without child() message first", async () => {
  const logger = messageLogger();
  const s = scope({ name: "jobs", logger });
  s.onDispose(() => {
    throw new Error("cleanup broke");
  });
  await s[Symbol.asyncDispose]().catch(() => {});
  s.onDispose(() => Promise.reject(new Error("late")));
  await new Promise((r) => setTimeout(r, 0));
  const [entry] = logger.calls;
  assert.equal(entry?.level, "error");
  assert.equal(entry.args[0], "cleanup registered after disposal threw");
  assert.equal((entry.args[1] as { err: Error }).err.message, "late");
});

test("loggers: calls in either convention reach a logger without child() message first", async () => {
  const cases: [string, (l: Logger) => void, unknown[]][] = [
    ["message only", (l) => l.info("hello"), ["hello"]],
    ["message and args", (l) => l.info("hello %s", "you", 2), ["hello %s", "you", 2]],
    ["pino's (obj, msg)", (l) => l.info({ a: 1 }, "hello"), ["hello", { a: 1 }]],
    ["pino's (err, msg)", (l) => l.info(new RangeError("r"), "m"), ["m", new RangeError("r")]],
    ["an object alone", (l) => l.info({ a: 1 }), [{ a: 1 }]],
  ];
  for (const [what, call, want] of cases) {
    const logger = messageLogger();
    await using s = scope({ logger });
    call(s.logger);
    assert.deepEqual(logger.calls, [{ level: "info", args: want }], what);
  }
});

test("loggers: a logger with child() (pino, request.log) is kept as it is and called (obj, msg)", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger });
  assert.equal(s.logger, logger);
  s.logger.warn({ a: 1 }, "w");
  assert.deepEqual(logger.calls, [{ level: "warn", obj: { a: 1 }, msg: "w" }]);
  const [, seen] = await s.task(({ logger: l }) => l);
  assert.equal(seen, logger, "a task gets the pino logger itself: its entries are structured");
});

test("loggers: a task's logger prefixes messages with [scope/task#id] for other loggers", async () => {
  const logger = messageLogger();
  await using s = scope({ name: "test-scope", logger });
  const t = s.task(({ logger: l }) => {
    l.info("hello from task");
    l.debug({ step: 1 }, "pino style");
    l.warn({ only: true });
  }, { name: "my-task" });
  await t;
  assert.deepEqual(logger.calls, [
    { level: "info", args: [`[test-scope/my-task#${t.id}] hello from task`] },
    { level: "debug", args: [`[test-scope/my-task#${t.id}] pino style`, { step: 1 }] },
    { level: "warn", args: [`[test-scope/my-task#${t.id}]`, { only: true }] },
  ]);
  // A task with an id is named after it.
  const withId = s.task(({ logger: l }) => l.info("x"), { id: "import-7" });
  await withId;
  assert.equal(logger.calls.at(-1)?.args[0], `[test-scope/import-7#${withId.id}] x`);
});

test("loggers: scope.logger can be set; tasks started later write to the new one", async () => {
  await using s = scope({ name: "s", logLevel: "debug" });
  const first = messageLogger();
  s.logger = first;
  await s.task(({ logger }) => logger.debug("task executing"));
  assert.match(first.calls[0]?.args[0] as string, /^\[s\/task-\d+#\d+\] task executing$/);
  const pino = recordingLogger();
  s.logger = pino;
  assert.equal(s.logger, pino);
  assert.equal(s.createChild().logger, pino, "children made later inherit it");
  assert.throws(() => {
    s.logger = {} as Logger;
  }, {
    name: "TypeError",
    message:
      'Cannot set logger: "logger" must be an object with debug, info, warn and error methods, received an object',
  });
});

test("loggers: the default logger prints warnings and errors message first, in either convention", async (t) => {
  const printed: unknown[][] = [];
  t.mock.method(console, "warn", (...args: unknown[]) => void printed.push(args));
  t.mock.method(console, "error", (...args: unknown[]) => void printed.push(args));
  await using s = scope();
  s.logger.warn("disk low", { free: 1 });
  s.logger.error({ err: 1 }, "failed");
  s.logger.error({ err: 2 });
  s.logger.info("not printed");
  await s.task(({ logger }) => logger.warn("from a task"), { name: "t" });
  assert.deepEqual(printed.slice(0, 3), [["disk low", { free: 1 }], ["failed", { err: 1 }], [
    "",
    { err: 2 },
  ]]);
  assert.match(printed[3]![0] as string, /^\[scope-\d+\/t#\d+\] from a task$/);
  assert.equal(printed.length, 4);
});
