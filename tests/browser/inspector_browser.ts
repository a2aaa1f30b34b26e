// The live inspector in a real browser: headless Chromium (Debian's
// /usr/bin/chromium, or $CHROMIUM) driven by playwright-core opens the page;
// a running request must appear with its tasks and disappear when it ends,
// and a task named like an HTML tag must be shown as text (no element made
// from it). Saves screenshots to .tmp/inspector.png and .tmp/inspector-dark.png
// (docs/images/ has copies).
//
// Not named *_test.ts on purpose: it needs a browser, so `deno task test`
// skips it; `deno task test:browser` (scripts/browser_test.ts) runs it.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import type { BrowserContext } from "playwright-core";
import { launchBrowser, listenLocal } from "./_chromium.ts";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { deferred } from "../core/_helpers.ts";

const XSS = "<img src=x onerror=alert(1)>";
const SCREENSHOTS = new URL("../../.tmp/", import.meta.url);

describe("browser: the live inspector page in headless Chromium", () => {
  let app: FastifyInstance;
  let browser: BrowserContext;
  let closeBrowser: (() => Promise<void>) | undefined;
  let origin: string;
  const release = deferred();
  const entered = deferred();

  before(async () => {
    app = Fastify({ logger: false });
    await app.register(fastifyGoGoScope, {
      name: "shop-api",
      timeout: 30_000,
      inspector: { path: "/_inspector" },
    });
    app.get("/orders/:id", async (request) => {
      const pricing = request.scope.createChild({ name: "pricing" });
      const tasks = [
        request.scope.task(() => release.promise, { name: "load-order" }),
        request.scope.task(() => release.promise, { name: XSS }),
        pricing.task(() => release.promise, { name: "price-lines" }),
      ];
      entered.resolve();
      await Promise.all(tasks);
      await pricing[Symbol.asyncDispose]();
      return { ok: true };
    });
    app.scope.task(
      ({ signal }) =>
        new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
      {
        name: "cache-refresher",
      },
    );
    origin = await listenLocal(app);
    ({ browser, close: closeBrowser } = await launchBrowser());
  });

  after(async () => {
    release.resolve();
    await closeBrowser?.();
    await app?.close();
  });

  it("shows a running request with its tasks, names as text, then removes it", async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    try {
      await page.setViewportSize({ width: 1000, height: 620 });
      const response = await page.goto(`${origin}/_inspector`);
      assert.equal(response?.status(), 200);
      await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
      assert.equal(await page.locator("section.request").count(), 0, "no request yet");

      const pending = fetch(`${origin}/orders/42?source=browser-test`);
      await entered.promise;
      const card = page.locator('section.request[data-route="/orders/:id"]');
      await card.waitFor({ timeout: 5_000 });
      const names = await card.locator("li.task").evaluateAll((items) =>
        items.map((item) => [item.getAttribute("data-task-name"), item.getAttribute("data-state")])
      );
      assert.deepEqual(names, [
        ["load-order", "running"],
        [XSS, "running"],
        ["price-lines", "running"],
      ]);
      // The tag-like name is text: shown verbatim, and no <img> exists.
      const shown = await card.locator("li.task").nth(1).locator(".name").textContent();
      assert.equal(shown, XSS);
      assert.equal(await page.locator("img").count(), 0);
      assert.match(await card.textContent() ?? "", /scope pricing/);
      assert.match(await page.locator("#root").textContent() ?? "", /cache-refresher/);
      // The inspector's own page and stream are not listed.
      assert.equal(await page.locator("section.request").count(), 1);

      await mkdir(SCREENSHOTS, { recursive: true });
      const file = new URL("inspector.png", SCREENSHOTS);
      await page.screenshot({ path: file.pathname, fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      const dark = new URL("inspector-dark.png", SCREENSHOTS);
      await page.screenshot({ path: dark.pathname, fullPage: true });
      await page.emulateMedia({ colorScheme: "light" });
      console.log(`screenshots: ${file.pathname}, ${dark.pathname}`);

      release.resolve();
      assert.equal((await pending).status, 200);
      await card.waitFor({ state: "detached", timeout: 5_000 });
      assert.equal(await page.locator("section.request").count(), 0);
      assert.deepEqual(dialogs, [], "no script ran from a name");
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
