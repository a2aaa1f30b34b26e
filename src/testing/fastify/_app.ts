// The part of a Fastify instance the testing kit's HTTP helpers use, whatever
// its server kind (HTTP/1, HTTP/2), logger or type provider.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Scope } from "../../core/mod.ts";

/** A hook of the kit's own (async; payload hooks resolve to the payload). */
export type KitHook = (request: FastifyRequest, reply: FastifyReply, payload?: unknown) => unknown;

/** A Fastify instance, seen through what the kit calls. */
export interface AppLike {
  addHook(name: string, hook: KitHook | ((route: never) => void)): unknown;
  listen(options: { host: string; port: number }): Promise<string>;
  readonly server: {
    readonly listening: boolean;
    address(): unknown;
  };
  readonly initialConfig: { readonly http2?: boolean; readonly https?: unknown };
  /** The plugin's root scope, when the plugin is registered. */
  readonly scope?: Scope;
  hasDecorator?(name: string): boolean;
}

/** A request, seen through what the kit reads. */
export type RequestLike = FastifyRequest & { readonly scope?: Scope };
