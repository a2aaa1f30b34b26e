// The plugin's side of `app.close()`: marks the drain (responses then close
// their keep-alive sockets), and cancels in-flight work with a
// ServerClosingError when Fastify is about to destroy its connections
// (`forceCloseConnections: true`) or when the plugin's `shutdownTimeout`
// passes, and what is still alive when the app has closed. Never re-exported
// by mod.ts.
import type { FastifyInstance } from "fastify";
import { type Scope, ServerClosingError } from "../core/mod.ts";

/** One plugin instance's shutdown state, created at registration. */
export class Shutdown {
  /** True from the start of `app.close()` (its preClose hooks) on. */
  closing = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #root: Scope;

  /**
   * @param fastify The instance the plugin is registered on (a preClose hook is added).
   * @param root The root scope, whose request scopes and tasks are cancelled.
   * @param shutdownTimeout The drain bound in milliseconds, if any.
   */
  constructor(fastify: FastifyInstance, root: Scope, shutdownTimeout: number | undefined) {
    this.#root = root;
    const force = (fastify.initialConfig as { forceCloseConnections?: unknown })
      .forceCloseConnections === true;
    fastify.addHook("preClose", (done) => {
      this.closing = true;
      // Fastify destroys every connection right after its preClose hooks:
      // the work of those requests learns why first.
      if (force) {
        this.#cancel("Server closing: connections are closed (forceCloseConnections)");
      } else if (shutdownTimeout !== undefined) {
        this.#timer = setTimeout(
          () =>
            this.#cancel(
              `Server closing: in-flight work did not finish within shutdownTimeout ` +
                `(${shutdownTimeout} ms)`,
            ),
          shutdownTimeout,
        );
      }
      done();
    });
  }

  /**
   * Called from onClose, before the root scope is disposed: the drain is
   * over. What is still alive (background tasks, requests still running on
   * Deno or under `app.inject()`, where onClose does not wait for them) is
   * cancelled with a shutdown reason rather than a bare disposal.
   */
  closed(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#cancel("Server closing: the application closed");
  }

  #cancel(message: string): void {
    this.#timer = undefined;
    if (!this.#root.isAborted) this.#root.cancel(new ServerClosingError(message));
  }
}
