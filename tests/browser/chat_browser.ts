// The chat example in headless Chromium (Debian's /usr/bin/chromium, or
// $CHROMIUM) driven by playwright-core: a message typed in one page reaches
// the other, closing a page ends its connection's scope and tasks, and
// closing the server closes every socket cleanly (code 1001).
//
// Not named *_test.ts on purpose: `deno task test:browser` runs it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import type { BrowserContext } from "playwright-core";
import { bounded, launchBrowser, listenLocal } from "./_chromium.ts";
import { chatExample, type ConnectionSummary } from "../../examples/chat.ts";

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("browser: the chat example in headless Chromium", () => {
  let app: FastifyInstance;
  let browser: BrowserContext;
  let closeBrowser: (() => Promise<void>) | undefined;
  let origin: string;
  const ended: ConnectionSummary[] = [];

  before(async () => {
    app = Fastify({ logger: false });
    await app.register(chatExample, {
      // Shorter than the test: the chat lives on because websocket routes
      // get no deadline from the plugin's timeout.
      scope: { name: "chat-browser-test", timeout: 100 },
      onConnectionEnd: (summary: ConnectionSummary) => void ended.push(summary),
    });
    origin = await listenLocal(app);
    ({ browser, close: closeBrowser } = await launchBrowser());
  });

  after(async () => {
    await closeBrowser?.();
    await bounded(app?.close() ?? Promise.resolve(), 10_000, "app.close()");
  });

  it("a message from one page reaches the other; closing a page ends its scope; closing the server closes every socket cleanly", async () => {
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    await alice.goto(`${origin}/?name=alice`);
    await bob.goto(`${origin}/?name=bob`);
    await alice.waitForSelector('#status[data-state="open"]');
    await bob.waitForSelector('#status[data-state="open"]');
    await new Promise((resolve) => setTimeout(resolve, 200)); // past the plugin's timeout

    await alice.fill("#text", "hello bob");
    await alice.click("button");
    const line = await bob.waitForSelector('#messages li[data-from="alice"]', { timeout: 5_000 });
    assert.equal(await line.textContent(), "alice: hello bob");

    // A third page joins, then leaves: its connection's scope ends as the client's doing.
    const carol = await browser.newPage();
    await carol.goto(`${origin}/?name=carol`);
    await carol.waitForSelector('#status[data-state="open"]');
    await carol.close();
    await until(() => ended.some((s) => s.name === "carol"), 2_000, "carol's connection to end");
    const carolEnd = ended.find((s) => s.name === "carol")!;
    assert.equal(carolEnd.reason, "GGS_ERR_CLIENT_DISCONNECTED");

    // Restarting the server: every open socket is closed with 1001, cleanly.
    await app.close();
    for (const page of [alice, bob]) {
      const status = await page.waitForSelector('#status[data-state="closed"]', {
        timeout: 5_000,
      });
      assert.equal(await status.getAttribute("data-code"), "1001");
      assert.equal(await status.getAttribute("data-clean"), "true");
    }
    const reasons = ended.filter((s) => s.name !== "carol").map((s) => [s.name, s.reason]);
    assert.deepEqual(reasons.sort(), [
      ["alice", "GGS_ERR_SERVER_CLOSING"],
      ["bob", "GGS_ERR_SERVER_CLOSING"],
    ]);
    assert.equal(ended.find((s) => s.name === "alice")!.said, 1);
  });
});
