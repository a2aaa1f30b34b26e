/**
 * The tests of Fastify's own suite whose outcome may change when `fastifyGoGoScope` is registered
 * on every instance (`scripts/fastify_suite.ts`): each one with the reason it is not a bug.
 *
 * @module
 */

/** A test of Fastify's suite allowed to differ with the plugin registered, and why. */
export interface ExpectedDifference {
  /** The test file, relative to the Fastify package (`test/hooks.test.js`). */
  file: string;
  /** The test's path of names (`parent > child`), as the comparison prints it. */
  test: string;
  /** One line: why the difference is not a bug of ours. */
  why: string;
}

/** Differences that are not bugs: the plugin shows up wherever any plugin would. */
export const EXPECTED: readonly ExpectedDifference[] = [
  {
    file: "test/hooks.test.js",
    test: "onSend hook should support encapsulation / 1",
    why: "counts the root's onSend hooks (1): the plugin's own global onSend hook makes 2",
  },
  {
    file: "test/plugin.2.test.js",
    test: "set the plugin name based on the plugin displayName symbol",
    why: "pluginName chain: 'fastify -> @go-go-scope/adapter-fastify -> plugin-A'",
  },
  {
    file: "test/plugin.2.test.js",
    test: "plugin name will change when using no encapsulation",
    why: "pluginName chain: 'fastify -> @go-go-scope/adapter-fastify -> plugin-A -> plugin-AB'",
  },
  {
    file: "test/plugin.4.test.js",
    test: "hasPlugin returns true when using no encapsulation",
    why: "pluginName chain: 'fastify -> @go-go-scope/adapter-fastify -> plugin-AA'",
  },
  {
    file: "test/pretty-print.test.js",
    test: "pretty print - empty plugins",
    why: "printPlugins() lists the plugin under root",
  },
  {
    file: "test/pretty-print.test.js",
    test: "pretty print - includeMeta, includeHooks",
    why: "printRoutes({ includeHooks }) lists the plugin's onRequest, onSend and onError hooks",
  },
  // The one deliberate behaviour change, option connectionCloseOnShutdown (default true, see
  // docs/lifecycle.md "What the plugin changes about Fastify"): a response in flight when close()
  // starts says `Connection: close`, so the client's next request opens a new connection, which
  // the closed server refuses, instead of reusing the socket and getting Fastify's 503. Without
  // it, such a socket keeps close() waiting until the client sends again or keepAliveTimeout.
  {
    file: "test/close-pipelining.test.js",
    test: "Should return 503 while closing - pipelining",
    why:
      "connectionCloseOnShutdown: the third pipelined request is not read after Connection: close",
  },
  {
    file: "test/close.test.js",
    test: "Current opened connection should not accept new incoming connections",
    why: "connectionCloseOnShutdown: the second request needs a new connection, refused",
  },
  {
    file: "test/close.test.js",
    test: "rejected incoming connections should be logged",
    why: "connectionCloseOnShutdown: the second request needs a new connection, refused",
  },
];
