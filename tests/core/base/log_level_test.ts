// The logLevel scope option: entries below the level dropped, inherited by
// children, bad values rejected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { messageLogger, recordingLogger } from "../_helpers.ts";

test("logLevel: entries below the level are not written", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger, logLevel: "warn" });
  s.logger.debug("d");
  s.logger.info("i");
  s.logger.warn("w");
  s.logger.error({ e: 1 }, "e");
  assert.deepEqual(logger.calls.map((c) => c.level), ["warn", "error"]);
  assert.deepEqual(logger.calls[1], { level: "error", obj: { e: 1 }, msg: "e" });
});

test("logLevel: children inherit the filtered logger", async () => {
  const logger = recordingLogger();
  await using s = scope({ logger, logLevel: "error" });
  s.createChild().logger.warn("dropped");
  assert.equal(logger.calls.length, 0);
});

test("logLevel: a bad level throws naming the option and the accepted values", () => {
  assert.throws(() => scope({ logLevel: "verbose" as never }), {
    message:
      `Cannot create scope: "logLevel" must be one of 'debug', 'info', 'warn', 'error', received "verbose"`,
  });
});

test("logLevel: the filtered logger takes the same calls and keeps child() for pino loggers", async () => {
  const pino = recordingLogger();
  await using s = scope({ logger: pino, logLevel: "info", logCorrelation: true });
  s.logger.debug("dropped");
  s.logger.info({ a: 1 }, "kept");
  assert.deepEqual(pino.calls, [{
    level: "info",
    obj: { traceId: s.traceId, spanId: s.spanId, scopeName: s.name, a: 1 },
    msg: "kept",
  }]);
  const plain = messageLogger();
  await using m = scope({ logger: plain, logLevel: "warn" });
  m.logger.info("dropped");
  m.logger.warn("disk %s", "low", 3);
  m.logger.error({ code: 1 }, "failed");
  assert.deepEqual(plain.calls, [
    { level: "warn", args: ["disk %s", "low", 3] },
    { level: "error", args: ["failed", { code: 1 }] },
  ]);
});
