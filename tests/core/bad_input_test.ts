// Bad input fails at once with a TypeError (wrong type) or RangeError (right
// type, out of range) whose message names the option and what was received.
// Table-driven: every numeric option of scope(), task(), channel(),
// CircuitBreaker, parallel(), race() and any() against the same bad values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Channel, CircuitBreaker, type Scope, scope } from "../../src/core/mod.ts";

type ErrorClass = typeof TypeError | typeof RangeError;

/** The bad values, and how each renders in a message. */
const BAD: readonly { value: unknown; shown: string }[] = [
  { value: 0, shown: "0" },
  { value: -1, shown: "-1" },
  { value: NaN, shown: "NaN" },
  { value: Infinity, shown: "Infinity" },
  { value: 1.5, shown: "1.5" },
  { value: "5", shown: '"5"' },
  { value: null, shown: "null" },
];

/** What kind of number an option takes, and so which bad values are bad and how. */
type Kind = "ms>0" | "ms>=0" | "int>=1" | "int>=0";

function expected(kind: Kind, value: unknown): ErrorClass | undefined {
  if (typeof value !== "number") return TypeError;
  const ok = kind === "ms>0"
    ? value > 0 && Number.isFinite(value)
    : kind === "ms>=0"
    ? value >= 0 && Number.isFinite(value)
    : kind === "int>=1"
    ? Number.isInteger(value) && value >= 1
    : Number.isInteger(value) && value >= 0;
  return ok ? undefined : RangeError;
}

interface NumericOption {
  /** How the test names it. */
  label: string;
  /** The option as the user wrote it; the message must contain it. */
  option: string;
  kind: Kind;
  /** Calls the API with the value (synchronously). */
  call(s: Scope, value: unknown): unknown;
}

/** Smuggles a wrongly typed value past the compiler, as untyped callers would. */
const asAny = (v: unknown): never => v as never;

const NUMERIC: readonly NumericOption[] = [
  {
    label: "scope({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (_s, v) => scope({ timeout: asAny(v) }),
  },
  {
    label: "scope({ concurrency })",
    option: "concurrency",
    kind: "int>=1",
    call: (_s, v) => scope({ concurrency: asAny(v) }),
  },
  {
    label: "createChild({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (s, v) => s.createChild({ timeout: asAny(v) }),
  },
  {
    label: "scope({ circuitBreaker: { failureThreshold } })",
    option: "failureThreshold",
    kind: "int>=1",
    call: (_s, v) => scope({ circuitBreaker: { failureThreshold: asAny(v) } }),
  },
  {
    label: "task({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (s, v) => s.task(() => 1, { timeout: asAny(v) }),
  },
  {
    label: "task({ retry: { max } })",
    option: "max",
    kind: "int>=0",
    call: (s, v) => s.task(() => 1, { retry: { max: asAny(v) } }),
  },
  {
    label: "task({ retry: { maxRetries } })",
    option: "maxRetries",
    kind: "int>=0",
    call: (s, v) => s.task(() => 1, { retry: { maxRetries: asAny(v) } }),
  },
  {
    label: "task({ retry: { delay } })",
    option: "delay",
    kind: "ms>=0",
    call: (s, v) => s.task(() => 1, { retry: { delay: asAny(v) } }),
  },
  {
    label: "task({ memo: { ttl } })",
    option: "memo.ttl",
    kind: "ms>0",
    call: (s, v) => s.task(() => 1, { memo: { key: "k", ttl: asAny(v) } }),
  },
  {
    label: "channel({ buffer })",
    option: "buffer",
    kind: "int>=0",
    call: (s, v) => s.channel({ buffer: asAny(v) }),
  },
  {
    label: "channel({ capacity })",
    option: "capacity",
    kind: "int>=0",
    call: (s, v) => s.channel({ capacity: asAny(v) }),
  },
  {
    label: "new Channel({ buffer })",
    option: "buffer",
    kind: "int>=0",
    call: (_s, v) => new Channel({ buffer: asAny(v) }),
  },
  {
    label: "new CircuitBreaker({ failureThreshold })",
    option: "failureThreshold",
    kind: "int>=1",
    call: (_s, v) => new CircuitBreaker({ failureThreshold: asAny(v) }),
  },
  {
    label: "new CircuitBreaker({ resetTimeout })",
    option: "resetTimeout",
    kind: "ms>0",
    call: (_s, v) => new CircuitBreaker({ resetTimeout: asAny(v) }),
  },
  {
    label: "new CircuitBreaker({ successThreshold })",
    option: "successThreshold",
    kind: "int>=1",
    call: (_s, v) => new CircuitBreaker({ successThreshold: asAny(v) }),
  },
  {
    label: "parallel({ concurrency })",
    option: "concurrency",
    kind: "int>=1",
    call: (s, v) => s.parallel([() => 1], { concurrency: asAny(v) }),
  },
  {
    label: "parallel({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (s, v) => s.parallel([() => 1], { timeout: asAny(v) }),
  },
  {
    label: "race({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (s, v) => s.race([() => 1], { timeout: asAny(v) }),
  },
  {
    label: "any({ timeout })",
    option: "timeout",
    kind: "ms>0",
    call: (s, v) => s.any([() => 1], { timeout: asAny(v) }),
  },
];

// Every numeric option refuses bad values at once, naming the option and the value.
{
  for (const opt of NUMERIC) {
    for (const { value, shown } of BAD) {
      const error = expected(opt.kind, value);
      if (error === undefined) continue; // a valid value for this option
      test(`bad input: ${opt.label} = ${shown} throws a ${error.name}`, async () => {
        const s = scope();
        try {
          assert.throws(
            () => opt.call(s, value),
            (e: unknown) => {
              assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`);
              assert.ok(
                e.message.includes(opt.option),
                `the message names "${opt.option}": ${e.message}`,
              );
              assert.ok(
                e.message.includes(`received ${shown}`),
                `the message shows the value: ${e.message}`,
              );
              assert.equal((e as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
              return true;
            },
          );
          assert.equal(s.taskCount, 0);
          assert.equal(s.childCount, 0);
        } finally {
          await s[Symbol.asyncDispose]();
        }
      });
    }
  }
}

test("bad input: a channel capacity given as a plain number is validated like buffer", async () => {
  const s = scope();
  for (const v of [-1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => s.channel(v),
      (e: unknown) => e instanceof RangeError && /"buffer"/.test(e.message),
    );
  }
  assert.throws(() => s.channel(asAny("5")), TypeError);
  await s[Symbol.asyncDispose]();
});

test("bad input: buffer and capacity that disagree are refused", async () => {
  const s = scope();
  assert.throws(() => s.channel({ buffer: 1, capacity: 2 }), TypeError);
  assert.equal(s.channel({ buffer: 2, capacity: 2 }).capacity, 2);
  await s[Symbol.asyncDispose]();
});

// ---------------------------------------------------------------- unknown keys

const UNKNOWN_KEYS: readonly {
  label: string;
  key: string;
  /** The did-you-mean the message offers, if the key is a near miss. */
  near?: string;
  call(s: Scope): unknown;
}[] = [
  { label: "scope()", key: "timout", near: "timeout", call: () => scope(asAny({ timout: 5 })) },
  {
    label: "createChild()",
    key: "nmae",
    near: "name",
    call: (s) => s.createChild(asAny({ nmae: "x" })),
  },
  {
    label: "task()",
    key: "retries",
    near: "retry",
    call: (s) => s.task(() => 1, asAny({ retries: 3 })),
  },
  {
    label: "task({ retry })",
    key: "maxRetry",
    near: "maxRetries",
    call: (s) => s.task(() => 1, { retry: asAny({ maxRetry: 3 }) }),
  },
  { label: "channel()", key: "bufer", near: "buffer", call: (s) => s.channel(asAny({ bufer: 3 })) },
  {
    label: "CircuitBreaker",
    key: "threshold",
    call: () => new CircuitBreaker(asAny({ threshold: 3 })),
  },
  {
    label: "scope({ circuitBreaker })",
    key: "threshold",
    call: () => scope({ circuitBreaker: asAny({ threshold: 3 }) }),
  },
  {
    label: "parallel()",
    key: "concurency",
    near: "concurrency",
    call: (s) => s.parallel([() => 1], asAny({ concurency: 2 })),
  },
  {
    label: "race()",
    key: "staggerDelays",
    near: "staggerDelay",
    call: (s) => s.race([() => 1], asAny({ staggerDelays: 2 })),
  },
  {
    label: "any()",
    key: "timout",
    near: "timeout",
    call: (s) => s.any([() => 1], asAny({ timout: 2 })),
  },
  {
    label: "provide()",
    key: "disposer",
    near: "dispose",
    call: (s) => s.provide("k", 1, asAny({ disposer: () => {} })),
  },
  {
    label: "override()",
    key: "singleton",
    call: (s) => s.provide("k", 1).override("k", 2, asAny({ singleton: true })),
  },
  {
    label: "task({ memo })",
    key: "ttlMs",
    near: "ttl",
    call: (s) => s.task(() => 1, { memo: asAny({ key: "k", ttlMs: 5 }) }),
  },
];

for (const c of UNKNOWN_KEYS) {
  test(`bad input: an unknown option key of ${c.label} is a TypeError naming it`, async () => {
    const s = scope();
    try {
      assert.throws(
        () => c.call(s),
        (e: unknown) => {
          assert.ok(e instanceof TypeError, `expected TypeError, got ${String(e)}`);
          assert.ok(e.message.includes(`unknown option "${c.key}"`), e.message);
          assert.equal((e as { code?: string }).code, "GGS_ERR_UNKNOWN_OPTION");
          if (c.near !== undefined) {
            assert.ok(e.message.includes(`(did you mean "${c.near}"?)`), e.message);
          } else {
            assert.ok(!e.message.includes("did you mean"), e.message);
          }
          return true;
        },
      );
    } finally {
      await s[Symbol.asyncDispose]();
    }
  });
}

// ---------------------------------------------------------------- other types

const WRONG_TYPES: readonly { label: string; option: string; call(s: Scope): unknown }[] = [
  { label: "scope options that are not an object", option: "options", call: () => scope(asAny(5)) },
  { label: "scope name", option: "name", call: () => scope({ name: asAny(5) }) },
  { label: "scope parent", option: "parent", call: () => scope({ parent: asAny({}) }) },
  {
    label: "scope signal",
    option: "signal",
    call: () => scope({ signal: asAny({ aborted: false }) }),
  },
  { label: "scope context", option: "context", call: () => scope({ context: asAny("ctx") }) },
  { label: "scope logger", option: "logger", call: () => scope({ logger: asAny({ info() {} }) }) },
  {
    label: "scope circuitBreaker",
    option: "circuitBreaker",
    call: () => scope({ circuitBreaker: asAny("on") }),
  },
  { label: "task name", option: "name", call: (s) => s.task(() => 1, { name: asAny(1) }) },
  { label: "task signal", option: "signal", call: (s) => s.task(() => 1, { signal: asAny("x") }) },
  {
    label: "task circuitBreaker",
    option: "circuitBreaker",
    call: (s) => s.task(() => 1, { circuitBreaker: asAny("open") }),
  },
  {
    label: "task retry preset",
    option: "retry",
    call: (s) => s.task(() => 1, { retry: asAny("sometimes") }),
  },
  {
    label: "task retry.if",
    option: "retry.if",
    call: (s) => s.task(() => 1, { retry: { if: asAny(true) } }),
  },
  {
    label: "task retry.onRetry",
    option: "retry.onRetry",
    call: (s) => s.task(() => 1, { retry: { onRetry: asAny(1) } }),
  },
  {
    label: "channel backpressure",
    option: "backpressure",
    call: (s) => s.channel({ backpressure: asAny("sometimes") }),
  },
  { label: "channel onDrop", option: "onDrop", call: (s) => s.channel({ onDrop: asAny(1) }) },
  {
    label: "breaker isFailure",
    option: "isFailure",
    call: () => new CircuitBreaker({ isFailure: asAny(1) }),
  },
  {
    label: "breaker.on event",
    option: "event",
    call: () => new CircuitBreaker().on(asAny("tripped"), () => {}),
  },
  { label: "parallel factories", option: "factories", call: (s) => s.parallel(asAny(() => 1)) },
  {
    label: "parallel factories[1]",
    option: "factories[1]",
    call: (s) => s.parallel(asAny([() => 1, 2])),
  },
  {
    label: "parallel continueOnError",
    option: "continueOnError",
    call: (s) => s.parallel([() => 1], { continueOnError: asAny("yes") }),
  },
  { label: "race factories", option: "factories", call: (s) => s.race(asAny("f")) },
  { label: "any factories[0]", option: "factories[0]", call: (s) => s.any(asAny([null])) },
  { label: "onDispose fn", option: "fn", call: (s) => s.onDispose(asAny("cleanup")) },
  { label: "provide key", option: "key", call: (s) => s.provide(asAny(1), () => 1) },
  {
    label: "provide dispose",
    option: "dispose",
    call: (s) => s.provide("k", 1, { dispose: asAny(1) }),
  },
  { label: "setContext key", option: "key", call: (s) => s.setContext(asAny(1), 1) },
  {
    label: "task errorClass",
    option: "errorClass",
    call: (s) => s.task(() => 1, { errorClass: asAny({}) }),
  },
  { label: "task dedupe", option: "dedupe", call: (s) => s.task(() => 1, { dedupe: asAny(1) }) },
  {
    label: "task memo.key",
    option: "memo.key",
    call: (s) => s.task(() => 1, { memo: asAny({ ttl: 5 }) }),
  },
];

for (const c of WRONG_TYPES) {
  test(`bad input: a wrong ${c.label} is a TypeError naming "${c.option}"`, async () => {
    const s = scope();
    try {
      assert.throws(
        () => c.call(s),
        (e: unknown) => {
          assert.ok(e instanceof TypeError, `expected TypeError, got ${String(e)}`);
          assert.ok(e.message.includes(`"${c.option}"`), e.message);
          assert.match(e.message, /received|unknown/);
          assert.equal((e as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
          return true;
        },
      );
      assert.equal(s.taskCount, 0);
    } finally {
      await s[Symbol.asyncDispose]();
    }
  });
}

test("bad input: messages read as a sentence naming what failed", () => {
  assert.throws(
    () => new CircuitBreaker({ failureThreshold: 0 }),
    {
      name: "RangeError",
      message:
        'Cannot create circuit breaker: "failureThreshold" must be an integer >= 1, received 0',
    },
  );
});

// ---------------------------------------------------------------- null is not "omitted"

const NULL_OPTIONS: readonly { label: string; option: string; call(s: Scope): unknown }[] = [
  { label: "scope(null)", option: "options", call: () => scope(asAny(null)) },
  { label: "createChild(null)", option: "options", call: (s) => s.createChild(asAny(null)) },
  { label: "task(fn, null)", option: "options", call: (s) => s.task(() => 1, asAny(null)) },
  { label: "scope({ name: null })", option: "name", call: () => scope({ name: asAny(null) }) },
  {
    label: "scope({ circuitBreaker: null })",
    option: "circuitBreaker",
    call: () => scope({ circuitBreaker: asAny(null) }),
  },
  {
    label: "scope({ logger: null })",
    option: "logger",
    call: () => scope({ logger: asAny(null) }),
  },
  {
    label: "task({ retry: null })",
    option: "retry",
    call: (s) => s.task(() => 1, { retry: asAny(null) }),
  },
  { label: "channel(null)", option: "options", call: (s) => s.channel(asAny(null)) },
  {
    label: "new CircuitBreaker(null)",
    option: "options",
    call: () => new CircuitBreaker(asAny(null)),
  },
  {
    label: "parallel(fs, null)",
    option: "options",
    call: (s) => s.parallel([() => 1], asAny(null)),
  },
];

for (const c of NULL_OPTIONS) {
  test(`bad input: ${c.label} is an error, not the default`, async () => {
    const s = scope();
    try {
      assert.throws(
        () => c.call(s),
        (e: unknown) => {
          assert.ok(e instanceof TypeError, `expected TypeError, got ${String(e)}`);
          assert.ok(e.message.includes(`"${c.option}"`), e.message);
          assert.ok(e.message.endsWith("received null"), e.message);
          assert.equal((e as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
          return true;
        },
      );
    } finally {
      await s[Symbol.asyncDispose]();
    }
  });
}

test("bad input: a timeout above 2^31-1 ms is accepted (timers are re-armed in chunks)", async () => {
  await using s = scope({ timeout: 2 ** 31 });
  const [err, value] = await s.task(() => 1, { timeout: 2 ** 40 });
  assert.equal(err, undefined);
  assert.equal(value, 1);
});
