// Every error class: stable code, statusCode where it can reach an HTTP
// response, name, fields, and instanceof.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  ChannelFullError,
  CircuitOpenError,
  ClientDisconnectedError,
  ResponseStreamError,
  scope,
  TimeoutError,
  UnknownError,
} from "../../../src/core/mod.ts";

test("errors: TimeoutError has code GGS_ERR_TIMEOUT, statusCode 504 and the timeout", () => {
  const e = new TimeoutError("too slow", 250);
  assert.ok(e instanceof TimeoutError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "TimeoutError");
  assert.equal(e.code, "GGS_ERR_TIMEOUT");
  assert.equal(e.statusCode, 504);
  assert.equal(e.timeout, 250);
  assert.equal(e.message, "too slow");
});

test("errors: AbortError has code GGS_ERR_ABORTED, statusCode 499 and the reason", () => {
  const e = new AbortError("cancelled", "because");
  assert.ok(e instanceof AbortError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "AbortError");
  assert.equal(e.code, "GGS_ERR_ABORTED");
  assert.equal(e.statusCode, 499);
  assert.equal(e.reason, "because");
  assert.equal(new AbortError().message.length > 0, true);
});

test("errors: ClientDisconnectedError extends AbortError with code GGS_ERR_CLIENT_DISCONNECTED, 499", () => {
  const e = new ClientDisconnectedError();
  assert.ok(e instanceof ClientDisconnectedError);
  assert.ok(e instanceof AbortError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "ClientDisconnectedError");
  assert.equal(e.code, "GGS_ERR_CLIENT_DISCONNECTED");
  assert.equal(e.statusCode, 499);
  assert.match(e.message, /[Cc]lient/);
});

test("errors: CircuitOpenError has code GGS_ERR_CIRCUIT_OPEN, statusCode 503 and retryAfter", () => {
  const e = new CircuitOpenError(1234);
  assert.ok(e instanceof CircuitOpenError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "CircuitOpenError");
  assert.equal(e.code, "GGS_ERR_CIRCUIT_OPEN");
  assert.equal(e.statusCode, 503);
  assert.equal(e.retryAfter, 1234);
});

test("errors: ChannelFullError has code GGS_ERR_CHANNEL_FULL and no statusCode", () => {
  const e = new ChannelFullError(8);
  assert.ok(e instanceof ChannelFullError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "ChannelFullError");
  assert.equal(e.code, "GGS_ERR_CHANNEL_FULL");
  assert.equal("statusCode" in e, false);
  assert.match(e.message, /capacity 8/);
});

test("errors: UnknownError has code GGS_ERR_UNKNOWN, no statusCode, and keeps the cause", () => {
  const e = new UnknownError("42", { cause: 42 });
  assert.ok(e instanceof UnknownError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "UnknownError");
  assert.equal(e.code, "GGS_ERR_UNKNOWN");
  assert.equal("statusCode" in e, false);
  assert.equal(e.cause, 42);
});

test("errors: every error accepts a cause", () => {
  const cause = new Error("root");
  assert.equal(new TimeoutError("t", 1, { cause }).cause, cause);
  assert.equal(new AbortError("a", undefined, { cause }).cause, cause);
  assert.equal(new ClientDisconnectedError("c", { cause }).cause, cause);
  assert.equal(new CircuitOpenError(1, "o", { cause }).cause, cause);
  assert.equal(new ChannelFullError(1, { cause }).cause, cause);
});

test("errors: the classes are not instances of each other", () => {
  assert.ok(!(new TimeoutError("t", 1) instanceof AbortError));
  assert.ok(!(new AbortError() instanceof TimeoutError));
  assert.ok(!(new CircuitOpenError(1) instanceof AbortError));
  assert.ok(!(new UnknownError("u") instanceof AbortError));
});

test("errors: every error class of errors.ts has a _tag equal to its class name", async () => {
  const mod: Record<string, unknown> = await import("../../../src/core/base/errors.ts");
  const classes = Object.entries(mod).filter(([, v]) =>
    typeof v === "function" && (v as { prototype: unknown }).prototype instanceof Error
  );
  assert.ok(classes.length >= 6, `found ${classes.length} classes`);
  for (const [name, ctor] of classes) {
    // Every constructor here accepts (message-ish, ...) arguments; defaults fill the rest.
    const e = Reflect.construct(ctor as new (...a: unknown[]) => Error, ["x", 1]) as Error & {
      _tag?: unknown;
    };
    assert.equal(e._tag, name, `${name}._tag`);
    assert.equal(e.name, name, `${name}.name`);
  }
});

test("errors: a _tag switch narrows to the class", () => {
  const errors: Error[] = [new TimeoutError("t", 1), new CircuitOpenError(5)];
  const tags = errors.map((e) => {
    const tagged = e as TimeoutError | CircuitOpenError;
    switch (tagged._tag) {
      case "TimeoutError":
        return `timeout ${tagged.timeout}`;
      case "CircuitOpenError":
        return `open ${tagged.retryAfter}`;
    }
  });
  assert.deepEqual(tags, ["timeout 1", "open 5"]);
});

test("errors: a plain Error thrown in a task comes back as UnknownError with it as cause", async () => {
  await using s = scope();
  const original = new Error("db down");
  const [err] = await s.task(() => {
    throw original;
  });
  assert.ok(err instanceof UnknownError);
  assert.equal(err.message, "db down");
  assert.equal(err.cause, original);
  assert.equal((err as UnknownError)._tag, "UnknownError");
});

test("errors: Error subclasses and tagged plain errors thrown in a task pass through unchanged", async () => {
  await using s = scope();
  class NotFound extends Error {}
  const thrown: Error[] = [
    new TypeError("bad"),
    new NotFound("nope"),
    Object.assign(new Error("tagged"), { _tag: "Business" }),
    new TimeoutError("slow", 5),
  ];
  for (const original of thrown) {
    const [err] = await s.task(() => Promise.reject(original));
    assert.equal(err, original);
  }
});

test("errors: ResponseStreamError extends AbortError with code GGS_ERR_RESPONSE_FAILED and the stream's error as cause", () => {
  const cause = new Error("disk read failed");
  const e = new ResponseStreamError(undefined, { cause });
  assert.ok(e instanceof AbortError);
  assert.ok(!(e instanceof ClientDisconnectedError));
  assert.equal(e.name, "ResponseStreamError");
  assert.equal(e.code, "GGS_ERR_RESPONSE_FAILED");
  assert.equal(e.statusCode, 500);
  assert.equal(e.cause, cause);
  assert.match(e.message, /stream failed/);
});
