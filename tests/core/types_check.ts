// Type tests of the core, checked by `deno task check` (never run). Every
// `@ts-expect-error` line must be an error, or the check fails ("Unused
// '@ts-expect-error' directive"): if inference of the service map, of
// use/has/override, or of the Result types of parallel/race broke, this file
// stops compiling.
import {
  type NoServices,
  type Result,
  type Scope,
  scope,
  type Task,
  type TaskOptions,
} from "../../src/core/mod.ts";

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(): T | void {}

interface Db {
  query(sql: string): string[];
}
class DbError extends Error {
  readonly _tag = "DbError";
}

export async function typeTests(): Promise<void> {
  // ---- the service map grows with each provide()
  const fresh = scope();
  expectType<Equal<typeof fresh, Scope<NoServices>>>();
  // @ts-expect-error nothing was provided: no key is known
  fresh.use("db");

  const s = scope()
    .provide("db", (): Db => ({ query: () => [] }))
    .provide("port", 8080);
  const db = s.use("db");
  expectType<Equal<typeof db, Db>>();
  const port: number = s.use("port");
  void port;
  // @ts-expect-error "port" is a number
  const wrong: string = s.use("port");
  void wrong;
  // @ts-expect-error a typo is not a provided key
  s.use("dbb");
  // @ts-expect-error has() is typed by the map too
  s.has("nope");
  const known: boolean = s.has("db");
  void known;

  // ---- override() keeps the key's type
  s.override("port", 9090).override("db", () => ({ query: () => ["fake"] }));
  // @ts-expect-error the override must have the service's type
  s.override("port", "9090");
  // @ts-expect-error override() only knows provided keys
  s.override("mailer", {});

  // ---- children and tasks see the map
  const child = s.createChild();
  const fromChild: Db = child.use("db");
  void fromChild;
  const [, rows] = await s.task(({ services }) => services.db.query("select"));
  expectType<Equal<typeof rows, string[] | undefined>>();
  // @ts-expect-error ctx.services is typed by the map
  await s.task(({ services }) => services.mailer);

  // ---- a plain Scope (the plugin's request.scope) accepts any key
  const plain: Scope = s;
  const anything: unknown = plain.use("whatever");
  void anything;
  plain.provide("late", 1).use("late").toFixed();

  // ---- provide options are typed by the value
  scope().provide("set", () => new Set<string>(), { dispose: (set) => set.clear() });
  // @ts-expect-error dispose receives the value, a Set, not a string
  scope().provide("set", () => new Set<string>(), { dispose: (v: string) => v });

  // ---- errorClass types the Result's error
  const typed = s.task(() => 1, { errorClass: DbError });
  expectType<Equal<typeof typed, Task<number, DbError>>>();
  const [dbErr] = await typed;
  if (dbErr) expectType<Equal<typeof dbErr._tag, "DbError">>();
  const options: TaskOptions = { dedupe: "k", memo: { key: "k", ttl: 10 }, priority: 1 };
  void options;
  // @ts-expect-error memo needs a ttl
  s.task(() => 1, { memo: { key: "k" } });

  // ---- Result types of parallel and race narrow
  const [pErr, values] = await s.parallel([() => 1, async () => "two", () => ({ ok: true })]);
  if (!pErr) {
    expectType<Equal<typeof values, [number, string, { ok: boolean }]>>();
    // @ts-expect-error the first value is a number
    values[0].toUpperCase();
  }
  const [, settled] = await s.parallel([() => 1, () => "x"], { continueOnError: true });
  if (settled) {
    const [first] = settled;
    expectType<Equal<typeof first, Result<Error, number>>>();
  }
  const [rErr, winner] = await s.race([() => "a", async () => "b"]);
  if (!rErr) expectType<Equal<typeof winner, string>>();
  else expectType<Equal<typeof winner, undefined>>();
  await s[Symbol.asyncDispose]();
  await fresh[Symbol.asyncDispose]();
}
