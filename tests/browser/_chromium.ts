// What both browser tests need: a listening app's origin, and headless
// Debian Chromium (/usr/bin/chromium, or $CHROMIUM) in a fresh, empty
// profile, driven by playwright-core.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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

/**
 * Resolves as `promise` does, or rejects after `ms` milliseconds with an error naming `what`: a
 * cleanup that hangs fails the test instead of stalling the run.
 */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every process whose command line names `profile` (this test's Chromium). */
async function killChromium(profile: string): Promise<void> {
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(profile)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * A headless browser in a new profile; `close()` ends it and removes the profile. If Chromium does
 * not close within 10 s, its processes are killed (found by the profile in their command line).
 */
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
      try {
        await bounded(browser.close(), 10_000, "closing Chromium");
      } catch (error) {
        console.error(`${(error as Error).message}: killing it`);
        await killChromium(profile);
      }
      await rm(profile, { recursive: true, force: true });
    },
  };
}
