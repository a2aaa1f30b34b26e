// A TypeScript user of the installed package. `tsc --noEmit -p tsconfig.<resolution>.json` must
// pass: the @ts-expect-error lines fail the check if the types degrade to `any`.
import Fastify from "fastify";
import { fastifyGoGoScope, type Scope } from "@go-go-scope/adapter-fastify";
import { scope } from "@go-go-scope/adapter-fastify/core";
import { createTimeController, leaveRequest } from "@go-go-scope/adapter-fastify/testing";

export async function main(): Promise<void> {
  const app = Fastify();
  await app.register(fastifyGoGoScope, { name: "consumer", timeout: 5_000 });

  const root: Scope = app.scope;
  // @ts-expect-error fastify.scope is a Scope, not a number
  const notANumber: number = app.scope;

  app.get("/", async (request) => {
    const requestScope: Scope = request.scope;
    const [err, value] = await request.scope.task(() => 42);
    if (err) throw err;
    const answer: number = value;
    // @ts-expect-error the task's value is a number, not a string
    const wrong: string = value;
    return { answer, name: requestScope.name, wrong };
  });

  // @ts-expect-error the timeout option is a number of milliseconds
  await app.register(fastifyGoGoScope, { timeout: "5s" });

  const s = scope();
  const [, text] = await s.task(() => "core");
  // @ts-expect-error a task of the core subpath is typed too
  const alsoWrong: number | undefined = text;
  await s[Symbol.asyncDispose]();

  const time = createTimeController();
  // @ts-expect-error advance() takes milliseconds
  await time.advance("1s");
  const left = await leaveRequest(app, { url: "/", leave: { phase: "preHandler" } });
  const reason: unknown = left.reason;
  // @ts-expect-error a lifecycle phase name, not any string
  await leaveRequest(app, { url: "/", leave: { phase: "whenever" } });

  console.log(root.name, notANumber, alsoWrong, reason);
}
