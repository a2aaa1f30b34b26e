// The plugin's observability options (`tracing`, `metrics`, `inspector`):
// validated at registration, then built into one Observation. The
// OpenTelemetry features are imported dynamically, only when they are on, so
// that `@opentelemetry/api` (an optional peer dependency) is never loaded
// otherwise. Never re-exported by mod.ts.
import type { FastifyInstance } from "fastify";
import type { Scope } from "../core/mod.ts";
import { assertKnownKeys, describe, fail, optionError } from "../core/internal.ts";
import { type Feature, Observation } from "./_observe.ts";
import type { InspectorOptions, MeterLike, TracerLike } from "./options.ts";

/** The validated options: `undefined` for a feature that is off. */
export interface ObservabilitySettings {
  readonly tracing: { readonly tracer: TracerLike | undefined } | undefined;
  readonly metrics: { readonly meter: MeterLike | undefined } | undefined;
  readonly inspector: InspectorOptions | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return isObject(value) &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

/** `true`, `false`, omitted, or `{ [key]?: an object with methods }`. */
function checkFeature<T>(
  where: string,
  option: string,
  value: unknown,
  key: string,
  methods: readonly string[],
  what: string,
): { value: T | undefined } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { value: undefined };
  if (!isObject(value)) fail(where, option, `true, false or { ${key} }`, value, false);
  assertKnownKeys(`${where}: "${option}"`, value, [key]);
  const given = value[key];
  if (given !== undefined && !hasMethods(given, methods)) {
    fail(where, `${option}.${key}`, what, given, false);
  }
  return { value: given as T | undefined };
}

/** Validates `tracing`, `metrics` and `inspector`. */
export function checkObservabilityOptions(
  where: string,
  options: { tracing?: unknown; metrics?: unknown; inspector?: unknown },
): ObservabilitySettings {
  const tracing = checkFeature<TracerLike>(
    where,
    "tracing",
    options.tracing,
    "tracer",
    ["startSpan"],
    "an OpenTelemetry Tracer (with startSpan)",
  );
  const metrics = checkFeature<MeterLike>(
    where,
    "metrics",
    options.metrics,
    "meter",
    ["createHistogram", "createCounter", "createUpDownCounter"],
    "an OpenTelemetry Meter (with createHistogram, createCounter, createUpDownCounter)",
  );
  return {
    tracing: tracing === undefined ? undefined : { tracer: tracing.value },
    metrics: metrics === undefined ? undefined : { meter: metrics.value },
    inspector: checkInspector(where, options.inspector),
  };
}

function checkInspector(where: string, value: unknown): InspectorOptions | undefined {
  if (value === undefined) return undefined;
  const accepted = '{ path, authorize? } with a path such as "/_inspector"';
  if (!isObject(value)) fail(where, "inspector", accepted, value, false);
  assertKnownKeys(`${where}: "inspector"`, value, ["path", "authorize"]);
  const { path, authorize } = value;
  if (typeof path !== "string") {
    fail(where, "inspector.path", 'a path such as "/_inspector"', path, false);
  }
  if (!path.startsWith("/") || path.length < 2 || path.endsWith("/")) {
    fail(where, "inspector.path", 'a path starting with "/", not ending with "/"', path, true);
  }
  if (authorize !== undefined && typeof authorize !== "function") {
    fail(where, "inspector.authorize", "a function of the request, or omitted", authorize, false);
  }
  return authorize === undefined
    ? { path }
    : { path, authorize: authorize as InspectorOptions["authorize"] & object };
}

/** Whether any feature is on. */
export function observes(settings: ObservabilitySettings): boolean {
  return settings.tracing !== undefined || settings.metrics !== undefined ||
    settings.inspector !== undefined;
}

/** The OpenTelemetry features, imported now (registration), and only if asked for. */
async function loadOtel(where: string, option: string): Promise<typeof import("../otel/mod.ts")> {
  try {
    return await import("../otel/mod.ts");
  } catch (error) {
    throw optionError(
      `${where}: "${option}" needs the package @opentelemetry/api (an optional peer ` +
        `dependency: npm install @opentelemetry/api), which could not be loaded: ` +
        `${error instanceof Error ? error.message : describe(error)}`,
      false,
      undefined,
      { cause: error },
    );
  }
}

/** The features that are on, as one Observation (with the root instrumented), or `undefined`. */
export async function startObservation(
  where: string,
  fastify: FastifyInstance,
  root: Scope,
  settings: ObservabilitySettings,
  inspector?: (options: InspectorOptions, fastify: FastifyInstance, root: Scope) => Feature,
): Promise<Observation | undefined> {
  if (!observes(settings)) return undefined;
  const features: Feature[] = [];
  if (settings.tracing !== undefined || settings.metrics !== undefined) {
    const otel = await loadOtel(where, settings.tracing !== undefined ? "tracing" : "metrics");
    if (settings.tracing !== undefined) {
      features.push(new otel.Tracing(settings.tracing.tracer as never));
    }
    if (settings.metrics !== undefined) {
      features.push(new otel.Metrics(settings.metrics.meter as never));
    }
  }
  let skip = (_route: string | undefined): boolean => false;
  if (settings.inspector !== undefined && inspector !== undefined) {
    const own = settings.inspector.path;
    const events = own + "/events";
    skip = (route) => route === own || route === events;
    features.push(inspector(settings.inspector, fastify, root));
  }
  const observation = new Observation(features, skip, (error) => {
    fastify.log.error({ err: error }, "go-go-scope: an observability feature failed");
  });
  observation.instrumentRoot(root);
  fastify.addHook("preClose", (done) => {
    observation.closing();
    done();
  });
  return observation;
}
