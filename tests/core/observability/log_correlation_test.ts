// Log correlation: ids generated, shared down the tree, a span per scope,
// merged into entries (or bound via child()), opt-out, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CorrelatedLogger,
  type CorrelationContext,
  createCorrelatedLogger,
  generateSpanId,
  generateTraceId,
  getCorrelationContext,
  isCorrelatedLogger,
  scope,
} from "../../../src/core/mod.ts";
import { messageLogger, recordingLogger } from "../_helpers.ts";

test("logCorrelation: ids are W3C-shaped random hex", () => {
  assert.match(generateTraceId(), /^[0-9a-f]{32}$/);
  assert.match(generateSpanId(), /^[0-9a-f]{16}$/);
  assert.notEqual(generateTraceId(), generateTraceId());
});

test("logCorrelation: a scope's entries carry traceId, spanId and scopeName", async () => {
  const logger = recordingLogger();
  await using s = scope({ name: "job", logger, logCorrelation: true });
  assert.match(s.traceId!, /^[0-9a-f]{32}$/);
  assert.match(s.spanId!, /^[0-9a-f]{16}$/);
  s.logger.info("hello");
  s.logger.warn({ user: 1 }, "with fields");
  assert.deepEqual(logger.calls[0], {
    level: "info",
    obj: { traceId: s.traceId, spanId: s.spanId, scopeName: "job" },
    msg: "hello",
  });
  assert.deepEqual(logger.calls[1]!.obj, {
    traceId: s.traceId,
    spanId: s.spanId,
    scopeName: "job",
    user: 1,
  });
  assert.equal(isCorrelatedLogger(s.logger), true);
});

test("logCorrelation: children share the trace and get their own span with parentSpanId", async () => {
  const logger = recordingLogger();
  await using root = scope({ name: "root", logger, logCorrelation: true });
  const child = root.createChild({ name: "child" });
  const grandchild = child.createChild({ name: "grandchild" });
  assert.equal(child.traceId, root.traceId);
  assert.equal(grandchild.traceId, root.traceId);
  assert.notEqual(child.spanId, root.spanId);
  assert.notEqual(grandchild.spanId, child.spanId);
  grandchild.logger.error(new Error("x"), "failed");
  const obj = logger.calls[0]!.obj as Record<string, unknown>;
  assert.equal(obj.parentSpanId, child.spanId);
  assert.equal(obj.scopeName, "grandchild");
  assert.equal((obj.err as Error).message, "x");
  assert.equal(getCorrelationContext(grandchild.logger)?.spanId, grandchild.spanId);
});

test("logCorrelation: a given traceId is continued; false opts a child out", async () => {
  const logger = recordingLogger();
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  await using root = scope({ logger, traceId });
  assert.equal(root.traceId, traceId);
  const quiet = root.createChild({ logCorrelation: false });
  assert.equal(quiet.spanId, undefined);
  quiet.logger.info("plain");
  assert.equal(logger.calls[0]!.obj, "plain");
});

test("logCorrelation: a logger with child() gets the ids as bindings once", () => {
  const bound: unknown[] = [];
  const base = {
    ...recordingLogger(),
    child(bindings: unknown) {
      bound.push(bindings);
      return recordingLogger();
    },
  };
  const log = createCorrelatedLogger(base, {
    traceId: "a".repeat(32),
    spanId: "b".repeat(16),
    scopeName: "s",
  });
  log.info("x");
  assert.deepEqual(bound, [{ traceId: "a".repeat(32), spanId: "b".repeat(16), scopeName: "s" }]);
  assert.ok(log instanceof CorrelatedLogger);
});

test("logCorrelation: scopes without it have no ids and a plain logger", async () => {
  await using s = scope({ name: "plain" });
  assert.equal(s.traceId, undefined);
  assert.equal(s.spanId, undefined);
  assert.equal(getCorrelationContext(s.logger), undefined);
});

test("logCorrelation: bad values throw naming the option", () => {
  assert.throws(() => scope({ logCorrelation: "yes" as never }), {
    message: 'Cannot create scope: "logCorrelation" must be a boolean, received "yes"',
  });
  assert.throws(() => scope({ traceId: "" }), {
    name: "RangeError",
    message: 'Cannot create scope: "traceId" must be a non-empty string, received ""',
  });
  assert.throws(() => scope({ traceId: 42 as never }), {
    name: "TypeError",
    message: 'Cannot create scope: "traceId" must be a non-empty string, received 42',
  });
});

test("logCorrelation: any string is a traceId, continued by the children", async () => {
  for (
    const traceId of [
      "external-trace-id-1234567890abcd",
      "req-7",
      "4bf92f3577b34da6a3ce929d0e0e4736",
    ]
  ) {
    await using root = scope({ traceId });
    const child = root.createChild({ logCorrelation: true, traceId: `${traceId}-child` });
    assert.equal(root.traceId, traceId);
    assert.equal(child.traceId, `${traceId}-child`, "a child's own traceId wins over the parent's");
    assert.equal(root.createChild().traceId, traceId);
  }
});

// ---------------------------------------------------------------- go-go-scope's format

const ids = { traceId: "abc123", spanId: "xyz789", scopeName: "test-scope" };

test("CorrelatedLogger over a logger without child(): go-go-scope's prefix and arguments", () => {
  const cases: {
    call: (log: CorrelatedLogger) => void;
    correlation?: CorrelationContext;
    want: unknown[];
  }[] = [
    {
      call: (log) => log.info("Test message"),
      want: ["[traceId=abc123] [spanId=xyz789] Test message", ids],
    },
    {
      call: (log) => log.info("Test message", { extra: "data" }),
      want: ["[traceId=abc123] [spanId=xyz789] Test message", { extra: "data" }],
    },
    {
      call: (log) => log.info("n=%d", 3),
      want: ["[traceId=abc123] [spanId=xyz789] n=%d", 3],
    },
    {
      // The core's own pino-style entries arrive message first.
      call: (log) => log.info({ err: "x" }, "cleanup failed"),
      want: ["[traceId=abc123] [spanId=xyz789] cleanup failed", { err: "x" }],
    },
    {
      call: (log) => log.info({ only: 1 }),
      want: ["[traceId=abc123] [spanId=xyz789]", { only: 1 }],
    },
    {
      call: (log) => log.info("m"),
      correlation: { ...ids, parentSpanId: "parent456" },
      want: ["[traceId=abc123] [spanId=xyz789] m", { ...ids, parentSpanId: "parent456" }],
    },
  ];
  for (const { call, correlation, want } of cases) {
    const base = messageLogger();
    call(new CorrelatedLogger(base, correlation ?? ids));
    assert.deepEqual(base.calls, [{ level: "info", args: want }]);
  }
});

test("logCorrelation: a scope with a logger without child() prefixes entries, tasks' too", async () => {
  const base = messageLogger();
  await using s = scope({ name: "correlated-scope", logger: base, logCorrelation: true });
  const [err] = await s.task(({ logger }) => logger.info("Task message"), { name: "t" });
  assert.equal(err, undefined);
  const [message] = base.calls[0]!.args as [string];
  assert.ok(message.startsWith(`[traceId=${s.traceId}] [spanId=${s.spanId}] `), message);
  assert.match(message, /\[correlated-scope\/t#\d+\] Task message$/);
});
