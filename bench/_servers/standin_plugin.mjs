// A stand-in for `fastifyGoGoScope`, used only by the benchmarks while the real plugin is not
// exported from mod.ts (or when `--plugin standin` is passed). It does the minimum a
// per-request-scope plugin must do: a child object per request, tracked by the root, released on
// the raw response's 'close'. Its numbers are labelled "stand-in" in every report.
import fp from "fastify-plugin";

class StandinScope {
  constructor(parent) {
    this.parent = parent;
    this.children = new Set();
    this.controller = null;
  }
  get childCount() {
    return this.children.size;
  }
  get signal() {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }
  createChild() {
    const child = new StandinScope(this);
    this.children.add(child);
    return child;
  }
  abort(reason) {
    if (this.controller !== null) this.controller.abort(reason);
  }
  task(fn) {
    try {
      return Promise.resolve(fn({ signal: this.signal })).then(
        (value) => [undefined, value],
        (error) => [error, undefined],
      );
    } catch (error) {
      return Promise.resolve([error, undefined]);
    }
  }
  dispose() {
    this.parent?.children.delete(this);
  }
}

async function standin(fastify) {
  const root = new StandinScope(null);
  fastify.decorate("scope", root);
  fastify.decorateRequest("scope", null);
  fastify.addHook("onRequest", (request, reply, done) => {
    const child = root.createChild();
    request.scope = child;
    reply.raw.once("close", () => {
      if (!reply.raw.writableEnded) child.abort(new Error("client disconnected"));
      child.dispose();
    });
    done();
  });
}

/** The stand-in plugin (fastify-plugin wrapped, so it decorates the parent instance). */
export const standinPlugin = fp(standin, { fastify: "5.x", name: "go-go-scope-standin" });
