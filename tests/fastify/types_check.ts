// Type tests, checked by `deno task check` (never run): the plugin's types
// reach users through the front door. Every `@ts-expect-error` line must be
// an error, or the check fails ("Unused '@ts-expect-error' directive").
import Fastify, { type FastifyPluginAsync } from "fastify";
import fastifyGoGoScopeDefault, {
  CircuitBreaker,
  fastifyGoGoScope,
  type FastifyGoGoScopeOptions,
  type RouteScopeOptions,
  type Scope,
} from "../../mod.ts";

export async function typeTests(): Promise<void> {
  const app = Fastify();

  // The plugin is a FastifyPluginAsync of its options, named and default.
  const plugin: FastifyPluginAsync<FastifyGoGoScopeOptions> = fastifyGoGoScope;
  const same: typeof fastifyGoGoScope = fastifyGoGoScopeDefault;
  void plugin;
  void same;

  await app.register(fastifyGoGoScope, { name: "api", timeout: 1000, concurrency: 2 });
  await app.register(fastifyGoGoScope, { circuitBreaker: new CircuitBreaker() });
  await app.register(fastifyGoGoScope, { circuitBreaker: { failureThreshold: 3 } });
  // @ts-expect-error timeout is a number of milliseconds
  await app.register(fastifyGoGoScope, { timeout: "30s" });
  // @ts-expect-error name is a string
  await app.register(fastifyGoGoScope, { name: 1 });
  // @ts-expect-error concurrency is a number
  await app.register(fastifyGoGoScope, { concurrency: true });

  // The instance's root scope.
  const root: Scope = app.scope;
  void root;

  app.get("/", async (request) => {
    // request.scope is a Scope, and task() infers its value's type.
    const s: Scope = request.scope;
    const [err, n] = await s.task(() => 42);
    if (err) {
      const message: string = err.message;
      return message;
    }
    const answer: number = n;
    // @ts-expect-error the value is a number, not a string
    const wrong: string = n;
    void wrong;

    const [aErr, user] = await request.scope.task(async () => ({ id: "1", name: "Ada" }), {
      retry: "exponential",
      timeout: 5000,
    });
    if (aErr) throw aErr;
    const name: string = user.name;
    // @ts-expect-error no such property on the inferred value
    void user.email;

    // parallel() types each position.
    const [pErr, results] = await request.scope.parallel([() => 1, async () => "two"]);
    if (pErr) throw pErr;
    const first: number = results[0];
    const second: string = results[1];

    // @ts-expect-error an unknown task option
    await request.scope.task(() => 1, { retries: 3 });

    return { answer, name, first, second };
  });

  // Per-route settings are typed under config.scope.
  const routeSettings: RouteScopeOptions = { timeout: false, circuitBreaker: false };
  app.get("/stream", { config: { scope: routeSettings } }, async () => "ok");
  app.get(
    "/guarded",
    { config: { scope: { circuitBreaker: new CircuitBreaker() } } },
    async () => "ok",
  );
  // @ts-expect-error timeout is a number or false
  app.get("/bad", { config: { scope: { timeout: "1s" } } }, async () => "bad");
  // @ts-expect-error circuitBreaker takes an instance or false, not options
  app.get("/bad2", { config: { scope: { circuitBreaker: true } } }, async () => "bad");

  await app.close();
}
