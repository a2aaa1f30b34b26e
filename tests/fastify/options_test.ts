// Every bad plugin option and route setting fails at startup with a message
// naming the plugin (and route), the option, the accepted values and what was
// received, and a stable `code`; unknown keys are rejected with a
// did-you-mean; registering the plugin twice says what to do.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { CircuitBreaker } from "../../src/core/mod.ts";

interface BadCase {
  options: unknown;
  error: typeof TypeError | typeof RangeError;
  message: string;
  code?: string;
}

const P = "fastifyGoGoScope";
const MS = "a finite number of milliseconds > 0";
const KEYS = '"name", "timeout", "circuitBreaker", "concurrency", "traceparent", ' +
  '"scopeTreeRoute", "persistence", "connectionTimeout", "shutdownTimeout", ' +
  '"connectionCloseOnShutdown", "tracing", "metrics", "inspector", "prefix", "logLevel", ' +
  '"logSerializers"';
const INSPECTOR = '{ path, authorize? } with a path such as "/_inspector"';

const badOptions: BadCase[] = [
  {
    options: { tracing: 42 },
    error: TypeError,
    message: `${P}: "tracing" must be true, false or { tracer }, received 42`,
  },
  {
    options: { tracing: "on" },
    error: TypeError,
    message: `${P}: "tracing" must be true, false or { tracer }, received "on"`,
  },
  {
    options: { tracing: null },
    error: TypeError,
    message: `${P}: "tracing" must be true, false or { tracer }, received null`,
  },
  {
    options: { tracing: { tracer: {} } },
    error: TypeError,
    message:
      `${P}: "tracing.tracer" must be an OpenTelemetry Tracer (with startSpan), received an object`,
  },
  {
    options: { tracing: { tracr: {} } },
    error: TypeError,
    code: "GGS_ERR_UNKNOWN_OPTION",
    message:
      `${P}: "tracing": unknown option "tracr" (did you mean "tracer"?); accepted options are "tracer", received "tracr"`,
  },
  {
    options: { metrics: 1 },
    error: TypeError,
    message: `${P}: "metrics" must be true, false or { meter }, received 1`,
  },
  {
    options: { metrics: { meter: null } },
    error: TypeError,
    message: `${P}: "metrics.meter" must be an OpenTelemetry Meter (with createHistogram, ` +
      `createCounter, createUpDownCounter), received null`,
  },
  {
    options: { inspector: true },
    error: TypeError,
    message: `${P}: "inspector" must be ${INSPECTOR}, received true`,
  },
  {
    options: { inspector: "/_inspector" },
    error: TypeError,
    message: `${P}: "inspector" must be ${INSPECTOR}, received "/_inspector"`,
  },
  {
    options: { inspector: {} },
    error: TypeError,
    message: `${P}: "inspector.path" must be a path such as "/_inspector", received undefined`,
  },
  {
    options: { inspector: { path: "inspector" } },
    error: RangeError,
    message:
      `${P}: "inspector.path" must be a path starting with "/", not ending with "/", received "inspector"`,
  },
  {
    options: { inspector: { path: "/ops/" } },
    error: RangeError,
    message:
      `${P}: "inspector.path" must be a path starting with "/", not ending with "/", received "/ops/"`,
  },
  {
    options: { inspector: { path: "/ops", authorize: "admin" } },
    error: TypeError,
    message:
      `${P}: "inspector.authorize" must be a function of the request, or omitted, received "admin"`,
  },
  {
    options: { shutdownTimeout: 0 },
    error: RangeError,
    message: `${P}: "shutdownTimeout" must be ${MS}, received 0`,
  },
  {
    options: { shutdownTimeout: "10s" },
    error: TypeError,
    message: `${P}: "shutdownTimeout" must be ${MS}, received "10s"`,
  },
  {
    options: { connectionCloseOnShutdown: "yes" },
    error: TypeError,
    message: `${P}: "connectionCloseOnShutdown" must be a boolean or omitted, received "yes"`,
  },
  {
    options: { connectionCloseOnShutdown: null },
    error: TypeError,
    message: `${P}: "connectionCloseOnShutdown" must be a boolean or omitted, received null`,
  },
  {
    options: { name: 42 },
    error: TypeError,
    message: `${P}: "name" must be a non-empty string, received 42`,
  },
  {
    options: { name: "" },
    error: RangeError,
    message: `${P}: "name" must be a non-empty string, received ""`,
  },
  {
    options: { name: null },
    error: TypeError,
    message: `${P}: "name" must be a non-empty string, received null`,
  },
  {
    options: { timeout: -1 },
    error: RangeError,
    message: `${P}: "timeout" must be ${MS}, received -1`,
  },
  {
    options: { timeout: 0 },
    error: RangeError,
    message: `${P}: "timeout" must be ${MS}, received 0`,
  },
  {
    options: { timeout: Number.NaN },
    error: RangeError,
    message: `${P}: "timeout" must be ${MS}, received NaN`,
  },
  {
    options: { timeout: Infinity },
    error: RangeError,
    message: `${P}: "timeout" must be ${MS}, received Infinity`,
  },
  {
    options: { timeout: "30s" },
    error: TypeError,
    message: `${P}: "timeout" must be ${MS}, received "30s"`,
  },
  {
    options: { timeout: false },
    error: TypeError,
    message: `${P}: "timeout" must be ${MS}, received false`,
  },
  {
    options: { timeout: null },
    error: TypeError,
    message: `${P}: "timeout" must be ${MS}, received null`,
  },
  {
    options: { concurrency: 0 },
    error: RangeError,
    message: `${P}: "concurrency" must be an integer >= 1, received 0`,
  },
  {
    options: { concurrency: 1.5 },
    error: RangeError,
    message: `${P}: "concurrency" must be an integer >= 1, received 1.5`,
  },
  {
    options: { concurrency: "3" },
    error: TypeError,
    message: `${P}: "concurrency" must be an integer >= 1, received "3"`,
  },
  {
    options: { concurrency: null },
    error: TypeError,
    message: `${P}: "concurrency" must be an integer >= 1, received null`,
  },
  {
    options: { circuitBreaker: true },
    error: TypeError,
    message: `${P}: "circuitBreaker" must be a CircuitBreaker or its options object, received true`,
  },
  {
    options: { circuitBreaker: null },
    error: TypeError,
    message: `${P}: "circuitBreaker" must be a CircuitBreaker or its options object, received null`,
  },
  {
    options: { circuitBreaker: new Map() },
    error: TypeError,
    message:
      `${P}: "circuitBreaker" must be a CircuitBreaker or its options object, received an instance of Map`,
  },
  {
    options: { timout: 5 },
    error: TypeError,
    code: "GGS_ERR_UNKNOWN_OPTION",
    message:
      `${P}: unknown option "timout" (did you mean "timeout"?); accepted options are ${KEYS}, received "timout"`,
  },
  {
    options: { Concurrency: 2 },
    error: TypeError,
    code: "GGS_ERR_UNKNOWN_OPTION",
    message:
      `${P}: unknown option "Concurrency" (did you mean "concurrency"?); accepted options are ${KEYS}, received "Concurrency"`,
  },
  {
    options: { zzz: 1 },
    error: TypeError,
    code: "GGS_ERR_UNKNOWN_OPTION",
    message: `${P}: unknown option "zzz"; accepted options are ${KEYS}, received "zzz"`,
  },
];

async function registrationError(options: unknown): Promise<unknown> {
  const app = Fastify();
  try {
    await app.register(fastifyGoGoScope, options as never);
    await app.ready();
  } catch (error) {
    return error;
  } finally {
    await app.close().catch(() => {});
  }
  return undefined;
}

describe("options: a bad plugin option fails registration", () => {
  for (const { options, error, message, code = "GGS_ERR_INVALID_OPTION" } of badOptions) {
    it(`rejects ${JSON.stringify(options)} (${code})`, async () => {
      const err = await registrationError(options);
      assert.ok(err instanceof error, `expected a ${error.name}, got ${String(err)}`);
      assert.equal((err as Error).message, message);
      assert.equal((err as { code?: string }).code, code);
    });
  }

  it("rejects invalid circuit breaker options with the breaker's own reason", async () => {
    const err = await registrationError({ circuitBreaker: { failureThreshold: 0 } });
    assert.ok(err instanceof RangeError);
    assert.equal((err as { code?: string }).code, "GGS_ERR_INVALID_OPTION");
    assert.match(
      (err as Error).message,
      /^fastifyGoGoScope: "circuitBreaker" is not valid circuit breaker options: .*"failureThreshold".*received 0/,
    );
    const typo = await registrationError({ circuitBreaker: { failureTreshold: 2 } });
    assert.equal((typo as { code?: string }).code, "GGS_ERR_UNKNOWN_OPTION");
    assert.match((typo as Error).message, /did you mean "failureThreshold"\?/);
  });

  it("fails ready() too, so a listening app never starts with a bad option", async () => {
    const app = Fastify();
    app.register(fastifyGoGoScope, { timeout: -5 });
    await assert.rejects(
      async () => void await app.ready(),
      /"timeout" must be a finite number of milliseconds > 0, received -5/,
    );
    await app.close().catch(() => {});
  });

  it("accepts every valid combination, Fastify's own register options and long timeouts", async () => {
    const err = await registrationError({
      name: "api",
      timeout: 1000,
      concurrency: 4,
      circuitBreaker: new CircuitBreaker(),
    });
    assert.equal(err, undefined);
    assert.equal(await registrationError({ circuitBreaker: { failureThreshold: 2 } }), undefined);
    assert.equal(await registrationError({}), undefined);
    assert.equal(
      await registrationError({ logLevel: "warn", timeout: 30 * 86_400_000 }),
      undefined,
    );
  });

  it("registering the plugin twice says what happened and how to fix it", async () => {
    for (const twice of ["same instance", "child instance"]) {
      const app = Fastify();
      await app.register(fastifyGoGoScope);
      const err = await (async () => {
        try {
          if (twice === "same instance") await app.register(fastifyGoGoScope);
          else await app.register(async (child) => void await child.register(fastifyGoGoScope));
        } catch (error) {
          return error;
        }
      })();
      await app.close().catch(() => {});
      assert.ok(err instanceof TypeError, `${twice}: got ${String(err)}`);
      assert.equal((err as { code?: string }).code, "GGS_ERR_ALREADY_REGISTERED");
      assert.match((err as Error).message, /^fastifyGoGoScope: the plugin is already registered/);
      assert.match((err as Error).message, /Register it once, on the root instance/);
    }
  });
});

const R = `${P}: route GET /x`;
const badRoutes: BadCase[] = [
  {
    options: "fast",
    error: TypeError,
    message: `${R}: "config.scope" must be an object, received "fast"`,
  },
  {
    options: null,
    error: TypeError,
    message: `${R}: "config.scope" must be an object, received null`,
  },
  {
    options: { timeout: -1 },
    error: RangeError,
    message: `${R}: "config.scope.timeout" must be ${MS} or false, received -1`,
  },
  {
    options: { timeout: true },
    error: TypeError,
    message: `${R}: "config.scope.timeout" must be ${MS} or false, received true`,
  },
  {
    options: { timeout: null },
    error: TypeError,
    message: `${R}: "config.scope.timeout" must be ${MS} or false, received null`,
  },
  {
    options: { circuitBreaker: { failureThreshold: 1 } },
    error: TypeError,
    message:
      `${R}: "config.scope.circuitBreaker" must be a CircuitBreaker or false, received an object`,
  },
  {
    options: { circuitBreaker: null },
    error: TypeError,
    message: `${R}: "config.scope.circuitBreaker" must be a CircuitBreaker or false, received null`,
  },
  {
    options: { timout: 5 },
    error: TypeError,
    code: "GGS_ERR_UNKNOWN_OPTION",
    message:
      `${R}: config.scope: unknown option "timout" (did you mean "timeout"?); accepted options are "timeout", "circuitBreaker", received "timout"`,
  },
];

describe("options: a bad route setting fails at route registration", () => {
  for (const { options, message, error, code = "GGS_ERR_INVALID_OPTION" } of badRoutes) {
    it(`rejects config.scope = ${JSON.stringify(options)} (${code})`, async (t) => {
      const app = Fastify();
      t.after(() => app.close());
      await app.register(fastifyGoGoScope);
      assert.throws(
        () => app.get("/x", { config: { scope: options as never } }, async () => "x"),
        (err: unknown) =>
          err instanceof error && err.message === message &&
          (err as { code?: string }).code === code,
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
      /route GET \/y: "config\.scope\.timeout" must be a finite number of milliseconds > 0/,
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
