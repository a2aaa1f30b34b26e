// The same package through the "require" condition (a CommonJS file under nodenext).
import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
import { scope } from "@go-go-scope/adapter-fastify/core";
import Fastify = require("fastify");

export async function main(): Promise<void> {
  const app = Fastify();
  await app.register(fastifyGoGoScope);
  app.get("/", async (request) => {
    const [err, value] = await request.scope.task(() => 42);
    if (err) throw err;
    // @ts-expect-error the task's value is a number, not a string
    const wrong: string = value;
    return { value, wrong };
  });
  const s = scope();
  await s[Symbol.asyncDispose]();
}
