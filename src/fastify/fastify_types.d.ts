/**
 * What registering `fastifyGoGoScope` adds to Fastify's types: `fastify.scope`,
 * `request.scope` and the per-route `config.scope` settings.
 *
 * It lives in a declaration file, named by `plugin.ts` with a
 * `/// <reference types>` directive, because JSR's fast check refuses a
 * `declare module` augmentation inside a `.ts` module (no slow types are
 * needed this way), and both JSR users and npm users (through the emitted
 * `plugin.d.ts`) still see the augmentation.
 *
 * @module
 */
import type { Scope } from "../core/mod.ts";
import type { RouteScopeOptions } from "./options.ts";

declare module "fastify" {
  interface FastifyInstance {
    /**
     * The application's root scope (from `@go-go-scope/adapter-fastify`).
     * Background work started on it lives until `app.close()`.
     */
    scope: Scope;
  }
  interface FastifyRequest {
    /**
     * This request's scope (from `@go-go-scope/adapter-fastify`), a child of
     * `fastify.scope`. Created in `onRequest` (or on first read, in hooks that
     * run without the plugin's `onRequest`); cancelled when the client leaves
     * or the response stream fails; disposed when the response ends.
     */
    scope: Scope;
  }
  interface FastifyContextConfig {
    /** Per-route settings of `@go-go-scope/adapter-fastify`. */
    scope?: RouteScopeOptions;
  }
}
