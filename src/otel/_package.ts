// The package's name and version, as the tracer and the meter are named
// (a test checks the version against deno.json's).

/** The package's name. */
export const PACKAGE_NAME = "@go-go-scope/adapter-fastify";
/** The package's version (deno.json's `version`). */
export const PACKAGE_VERSION = "0.1.0";
