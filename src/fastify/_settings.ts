// The plugin's option and per-route settings validation, run once: at
// registration, and per route in onRoute (or on a route's first request when
// the route was declared before the plugin).
import type { FastifyRequest } from "fastify";
import { type CircuitBreaker, type PersistenceOption, resolvePersistence } from "../core/mod.ts";
import {
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertMsOrFalse,
  assertNonEmptyString,
  assertObject,
  fail,
  optionError,
  toBreaker,
} from "../core/internal.ts";
import type { FastifyGoGoScopeOptions } from "./options.ts";

export const PLUGIN = "fastifyGoGoScope";

/** Per-route settings, validated once and cached on the route's config object. */
export interface RouteSettings {
  readonly timeout: number | false | undefined;
  readonly circuitBreaker: CircuitBreaker | false | undefined;
  /** Whether Fastify's own `handlerTimeout` (5.8+) applies to the route. */
  readonly handlerTimeout: boolean;
}

export const NO_SETTINGS: RouteSettings = Object.freeze({
  timeout: undefined,
  circuitBreaker: undefined,
  handlerTimeout: false,
});
export const kRouteSettings: unique symbol = Symbol("go-go-scope.routeSettings");

export type RouteConfig = { scope?: unknown; [kRouteSettings]?: RouteSettings | Error };

const ROUTE_KEYS = ["timeout", "circuitBreaker"] as const;
const OPTION_KEYS = [
  "name",
  "timeout",
  "circuitBreaker",
  "concurrency",
  "traceparent",
  "scopeTreeRoute",
  "persistence",
  "connectionTimeout",
  "shutdownTimeout",
  "connectionCloseOnShutdown",
  "tracing",
  "metrics",
  "inspector",
] as const satisfies readonly (keyof FastifyGoGoScopeOptions)[];
// Fastify's own register() options, which it leaves in the plugin's options.
const FASTIFY_KEYS = ["prefix", "logLevel", "logSerializers"] as const;

export function routeSettings(
  value: unknown,
  route: string,
  handlerTimeout = false,
): RouteSettings {
  if (value === undefined) return handlerTimeout ? WITH_HANDLER_TIMEOUT : NO_SETTINGS;
  const where = `${PLUGIN}: route ${route}`;
  assertObject(where, "config.scope", value);
  assertKnownKeys(`${where}: config.scope`, value, ROUTE_KEYS);
  const { timeout, circuitBreaker } = value as Record<string, unknown>;
  if (timeout !== undefined) assertMsOrFalse(where, "config.scope.timeout", timeout);
  return {
    timeout,
    circuitBreaker: circuitBreaker === undefined
      ? undefined
      : toBreaker(where, "config.scope.circuitBreaker", circuitBreaker, { orFalse: true }),
    handlerTimeout,
  };
}

const WITH_HANDLER_TIMEOUT: RouteSettings = Object.freeze({
  ...NO_SETTINGS,
  handlerTimeout: true,
});

/**
 * Settings of the route serving `request`, computed once per route. A route
 * declared before the plugin was registered was never seen by the onRoute
 * hook: its settings are validated here, on its first request, and an invalid
 * value fails each of its requests with the validation error.
 */
export function settingsOf(request: FastifyRequest): RouteSettings | Error {
  const config = request.routeOptions.config as RouteConfig;
  const cached = config[kRouteSettings];
  if (cached !== undefined) return cached;
  let settings: RouteSettings | Error;
  try {
    const { url, handlerTimeout } = request.routeOptions as {
      url?: string;
      handlerTimeout?: number;
    };
    settings = routeSettings(
      config.scope,
      `${request.method} ${url}`,
      (handlerTimeout ?? 0) > 0,
    );
  } catch (error) {
    settings = error as Error;
  }
  config[kRouteSettings] = settings;
  return settings;
}

/** The route's settings, or none when they are invalid (the request then fails with their error). */
export function validSettings(
  request: FastifyRequest,
  routesMayHaveSettings: boolean,
): RouteSettings {
  const found = routesMayHaveSettings ? settingsOf(request) : NO_SETTINGS;
  return found instanceof Error ? NO_SETTINGS : found;
}

export function validateOptions(options: FastifyGoGoScopeOptions): {
  name: string;
  timeout: number | undefined;
  breaker: CircuitBreaker | undefined;
  concurrency: number | undefined;
  connectionTimeout: number | undefined;
  shutdownTimeout: number | undefined;
  connectionCloseOnShutdown: boolean;
} {
  assertObject(PLUGIN, "options", options);
  assertKnownKeys(PLUGIN, options, [...OPTION_KEYS, ...FASTIFY_KEYS]);
  const {
    name = "fastify-app",
    timeout,
    circuitBreaker,
    concurrency,
    connectionTimeout,
    shutdownTimeout,
    connectionCloseOnShutdown = true,
  } = options as Record<string, unknown>;
  assertNonEmptyString(PLUGIN, "name", name);
  if (timeout !== undefined) assertMs(PLUGIN, "timeout", timeout);
  if (connectionTimeout !== undefined) assertMs(PLUGIN, "connectionTimeout", connectionTimeout);
  if (concurrency !== undefined) assertInteger(PLUGIN, "concurrency", concurrency, 1);
  if (shutdownTimeout !== undefined) assertMs(PLUGIN, "shutdownTimeout", shutdownTimeout);
  if (typeof connectionCloseOnShutdown !== "boolean") {
    fail(
      PLUGIN,
      "connectionCloseOnShutdown",
      "a boolean or omitted",
      connectionCloseOnShutdown,
      false,
    );
  }
  const persistence = (options as { persistence?: PersistenceOption }).persistence;
  return {
    name,
    timeout,
    breaker: circuitBreaker === undefined ? undefined : pluginBreaker(
      circuitBreaker,
      name,
      persistence !== undefined && resolvePersistence(persistence).circuitBreaker !== undefined,
    ),
    concurrency,
    connectionTimeout,
    shutdownTimeout,
    connectionCloseOnShutdown,
  };
}

/**
 * The plugin's breaker. Where `persistence` can hold breaker state, the
 * breaker is shared through it: one given as options without a `key` gets the
 * plugin's `name`; an instance without a key (it cannot get one) is refused
 * rather than left in this process without a word.
 */
function pluginBreaker(value: unknown, name: string, shares: boolean): CircuitBreaker | undefined {
  if (
    shares && typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    (value as { key?: unknown }).key === undefined
  ) value = { ...value, key: name };
  const breaker = toBreaker(PLUGIN, "circuitBreaker", value, { orOptions: true }) || undefined;
  if (shares && breaker !== undefined && breaker.key === undefined) {
    throw optionError(
      `${PLUGIN}: "circuitBreaker" must have a key when "persistence" shares circuit-breaker state, ` +
        `received a CircuitBreaker without one (give it one, new CircuitBreaker({ key: "payments" }), ` +
        `or pass its options and the plugin's name becomes its key)`,
      false,
    );
  }
  return breaker;
}

/** The error of a second registration on the same instance (or below one that has it). */
export function alreadyRegistered(): Error {
  return optionError(
    `${PLUGIN}: the plugin is already registered on this instance or a parent ` +
      `("fastify.scope" and "request.scope" exist). Register it once, on the root instance: ` +
      `every child instance and route sees fastify.scope and request.scope; per-route ` +
      `settings go under a route's config.scope.`,
    false,
    "GGS_ERR_ALREADY_REGISTERED",
  );
}
