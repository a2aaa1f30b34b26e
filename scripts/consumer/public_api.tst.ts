// Exact type tests of the public API and of the Fastify augmentation, run with tstyche against
// the installed npm package (scripts/build_npm.ts --pack) and type-checked by `deno task check`.
import { describe, expect, test } from "tstyche";
import Fastify, {
  type FastifyContextConfig,
  type FastifyInstance,
  type FastifyRequest,
} from "fastify";
import {
  CircuitBreaker,
  type CircuitState,
  fastifyGoGoScope,
  type FastifyGoGoScopeOptions,
  type Result,
  type RouteScopeOptions,
  type Scope,
  scope,
  SSENotAcceptableError,
  type Task,
  type TimeoutError,
} from "@go-go-scope/adapter-fastify";
import type * as core from "@go-go-scope/adapter-fastify/core";

describe("the Fastify augmentation", () => {
  test("fastify.scope and request.scope are Scopes", () => {
    expect<FastifyInstance["scope"]>().type.toBe<Scope>();
    expect<FastifyRequest["scope"]>().type.toBe<Scope>();
  });

  test("a route's config.scope takes the per-route settings", () => {
    expect<FastifyContextConfig["scope"]>().type.toBe<RouteScopeOptions | undefined>();
    expect<RouteScopeOptions["timeout"]>().type.toBe<number | false | undefined>();
    expect<RouteScopeOptions["circuitBreaker"]>().type.toBe<CircuitBreaker | false | undefined>();
  });

  test("the plugin's options are checked at register()", () => {
    expect<{ timeout: number }>().type.toBeAssignableTo<FastifyGoGoScopeOptions>();
    expect<{ timeout: string }>().type.not.toBeAssignableTo<FastifyGoGoScopeOptions>();
    expect<{ timout: number }>().type.not.toBeAssignableTo<FastifyGoGoScopeOptions>();
    const app = Fastify();
    expect(app.register(fastifyGoGoScope, { name: "api" })).type.not.toBe<never>();
  });
});

describe("the core", () => {
  test("task() gives a Task whose Result is typed", async () => {
    await using s = scope();
    const task = s.task(() => 42);
    expect(task).type.toBe<Task<number>>();
    expect(await task).type.toBe<Result<Error, number>>();
    const [err, value] = await task;
    if (err) {
      expect(err).type.toBe<Error>();
    } else {
      expect(value).type.toBe<number>();
    }
  });

  test("parallel() types its values per position", async () => {
    await using s = scope();
    const [err, values] = await s.parallel([() => 1, async () => "two"]);
    if (!err) expect(values).type.toBe<[number, string]>();
  });

  test("the ./core subpath exports the same classes", () => {
    expect<typeof core.Scope>().type.toBe<typeof Scope>();
    expect<typeof core.TimeoutError>().type.toBe<typeof TimeoutError>();
  });

  test("a breaker's state and the errors' codes are literal types", () => {
    expect(new CircuitBreaker().state).type.toBe<CircuitState>();
    expect(new SSENotAcceptableError().statusCode).type.toBe<406>();
  });
});
