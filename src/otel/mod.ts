/**
 * The plugin's OpenTelemetry features (`tracing`, `metrics`), on
 * `@opentelemetry/api` only. The plugin imports this module dynamically, and
 * only when one of them is on: without them, `@opentelemetry/api` is never
 * loaded. Not a public entry point.
 *
 * @module
 */
export { Tracing } from "./tracing.ts";
export { DURATION_BUCKETS, Metrics } from "./metrics.ts";
export { PACKAGE_NAME, PACKAGE_VERSION } from "./_package.ts";
