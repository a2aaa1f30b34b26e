// What both browser tests need: a listening app's origin, and headless
// Debian Chromium (/usr/bin/chromium, or $CHROMIUM) in a fresh, empty
// profile, driven by playwright-core.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { FastifyInstance } from "fastify";
import { type BrowserContext, chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling out, and
// this machine's closed network refuses every attempt.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-quic",
  "--disable-component-update",
  "--disable-sync",
];

/** Listens on 127.0.0.1, port 0, and returns `http://127.0.0.1:<port>`. */
export async function listenLocal(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === "object");
  return `http://127.0.0.1:${address.port}`;
}

/** A headless browser in a new profile; `close()` ends it and removes the profile. */
export async function launchBrowser(): Promise<
  { browser: BrowserContext; close: () => Promise<void> }
> {
  const profile = await mkdtemp(join(tmpdir(), "ggs-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
