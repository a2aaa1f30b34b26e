// Every bad plugin option and route setting fails at startup with a message
// naming the option, the accepted values and what was received.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { CircuitBreaker } from "../../src/core/mod.ts";

interface BadCase {
  options: Record<string, unknown>;
  error: typeof TypeError | typeof RangeError;
  message: string;
}

const badOptions: BadCase[] = [
  {
    options: { name: 42 },
    error: TypeError,
    message: 'fastifyGoGoScope: "name" must be a non-empty string or omitted, received 42',
  },
  {
    options: { name: "" },
    error: RangeError,
    message: 'fastifyGoGoScope: "name" must be a non-empty string or omitted, received ""',
  },
  {
    options: { timeout: -1 },
    error: RangeError,
    message: 'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received -1',
  },
  {
    options: { timeout: 0 },
    error: RangeError,
    message: 'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received 0',
  },
  {
    options: { timeout: Number.NaN },
    error: RangeError,
    message: 'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received NaN',
  },
  {
    options: { timeout: Infinity },
    error: RangeError,
    message:
      'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received Infinity',
  },
  {
    options: { timeout: "30s" },
    error: TypeError,
    message: 'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received "30s"',
  },
  {
    options: { timeout: false },
    error: TypeError,
    message: 'fastifyGoGoScope: "timeout" must be a finite number > 0 or omitted, received false',
  },
  {
    options: { concurrency: 0 },
    error: RangeError,
    message: 'fastifyGoGoScope: "concurrency" must be an integer >= 1 or omitted, received 0',
  },
  {
    options: { concurrency: 1.5 },
    error: RangeError,
    message: 'fastifyGoGoScope: "concurrency" must be an integer >= 1 or omitted, received 1.5',
  },
  {
    options: { concurrency: "3" },
    error: TypeError,
    message: 'fastifyGoGoScope: "concurrency" must be an integer >= 1 or omitted, received "3"',
  },
  {
    options: { circuitBreaker: true },
    error: TypeError,
    message:
      'fastifyGoGoScope: "circuitBreaker" must be a CircuitBreaker, its options object or omitted, received true',
  },
  {
    options: { circuitBreaker: new Map() },
    error: TypeError,
    message:
      'fastifyGoGoScope: "circuitBreaker" must be a CircuitBreaker, its options object or omitted, received an instance of Map',
  },
];

async function registrationError(options: Record<string, unknown>): Promise<unknown> {
  const app = Fastify();
  try {
    await app.register(fastifyGoGoScope, options);
    await app.ready();
  } catch (error) {
    return error;
  } finally {
    await app.close().catch(() => {});
  }
  return undefined;
}

describe("options: a bad plugin option fails registration", () => {
  for (const { options, error, message } of badOptions) {
    const [key] = Object.keys(options);
    it(`rejects "${key}" ${message.slice(message.lastIndexOf("received "))}`, async () => {
      const err = await registrationError(options);
      assert.ok(err instanceof error, `expected a ${error.name}, got ${String(err)}`);
      assert.equal((err as Error).message, message);
    });
  }

  it("rejects invalid circuit breaker options with the breaker's own reason", async () => {
    const err = await registrationError({ circuitBreaker: { failureThreshold: 0 } });
    assert.ok(err instanceof RangeError);
    assert.match(
      (err as Error).message,
      /^fastifyGoGoScope: "circuitBreaker" is not valid circuit breaker options: .*"failureThreshold".*received 0/,
    );
  });

  it("fails ready() too, so a listening app never starts with a bad option", async () => {
    const app = Fastify();
    app.register(fastifyGoGoScope, { timeout: -5 });
    await assert.rejects(
      async () => void await app.ready(),
      /"timeout" must be a finite number > 0 or omitted, received -5/,
    );
    await app.close().catch(() => {});
  });

  it("accepts every valid combination", async () => {
    const err = await registrationError({
      name: "api",
      timeout: 1000,
      concurrency: 4,
      circuitBreaker: new CircuitBreaker(),
    });
    assert.equal(err, undefined);
    assert.equal(await registrationError({ circuitBreaker: { failureThreshold: 2 } }), undefined);
    assert.equal(await registrationError({}), undefined);
  });
});

const badRoutes: Array<
  { scope: unknown; message: string; error: typeof TypeError | typeof RangeError }
> = [
  {
    scope: "fast",
    error: TypeError,
    message:
      'fastifyGoGoScope: route GET /x: "config.scope" must be an object or omitted, received "fast"',
  },
  {
    scope: { timeout: -1 },
    error: RangeError,
    message:
      'fastifyGoGoScope: route GET /x: "config.scope.timeout" must be a finite number > 0, false or omitted, received -1',
  },
  {
    scope: { timeout: true },
    error: TypeError,
    message:
      'fastifyGoGoScope: route GET /x: "config.scope.timeout" must be a finite number > 0, false or omitted, received true',
  },
  {
    scope: { circuitBreaker: { failureThreshold: 1 } },
    error: TypeError,
    message:
      'fastifyGoGoScope: route GET /x: "config.scope.circuitBreaker" must be a CircuitBreaker, false or omitted, received an object',
  },
];

describe("options: a bad route setting fails at route registration", () => {
  for (const { scope, message, error } of badRoutes) {
    it(`rejects config.scope = ${JSON.stringify(scope)}`, async (t) => {
      const app = Fastify();
      t.after(() => app.close());
      await app.register(fastifyGoGoScope);
      assert.throws(
        () => app.get("/x", { config: { scope: scope as never } }, async () => "x"),
        (err: unknown) => err instanceof error && err.message === message,
      );
    });
  }

  it("fails ready() when the route is declared inside a plugin", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    app.register(async (child) => {
      child.get("/y", { config: { scope: { timeout: 0 } } }, async () => "y");
    });
    await assert.rejects(
      async () => void await app.ready(),
      /route GET \/y: "config\.scope\.timeout" must be a finite number > 0/,
    );
    await app.close().catch(() => {});
  });

  it("accepts valid route settings", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    app.get("/a", { config: { scope: { timeout: 10 } } }, async () => "a");
    app.get(
      "/b",
      { config: { scope: { timeout: false, circuitBreaker: false } } },
      async () => "b",
    );
    app.get("/c", { config: { scope: { circuitBreaker: new CircuitBreaker() } } }, async () => "c");
    app.get("/d", { config: { scope: {} } }, async () => "d");
    for (const path of ["/a", "/b", "/c", "/d"]) {
      assert.equal((await app.inject(path)).body, path.slice(1));
    }
  });
});
