// A real browser against the example: headless Chromium (Debian's
// /usr/bin/chromium, or $CHROMIUM) driven by playwright-core loads the page
// from 127.0.0.1; its EventSource must receive every event in order, and
// closing the page must stop the server-side producer.
//
// Not named *_test.ts on purpose: it needs a browser, so `deno task test`
// skips it; `deno task test:browser` (scripts/browser_test.ts) runs it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import type { BrowserContext } from "playwright-core";
import { bounded, launchBrowser, listenLocal } from "./_chromium.ts";
import { sseExample, type StreamSummary } from "../../examples/sse.ts";

/** Resolves with the first summary `match` accepts, or rejects after `ms`. */
function waitFor(
  summaries: StreamSummary[],
  listeners: Set<() => void>,
  match: (s: StreamSummary) => boolean,
  ms: number,
): Promise<StreamSummary> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = summaries.find(match);
      if (found === undefined) return;
      clearTimeout(timer);
      listeners.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`No matching stream summary within ${ms} ms: ${JSON.stringify(summaries)}`));
    }, ms);
    listeners.add(check);
    check();
  });
}

describe("browser: the SSE example page in headless Chromium", () => {
  let app: FastifyInstance;
  let browser: BrowserContext;
  let closeBrowser: (() => Promise<void>) | undefined;
  let origin: string;
  const summaries: StreamSummary[] = [];
  const listeners = new Set<() => void>();

  before(async () => {
    app = Fastify({ logger: false });
    await app.register(sseExample, {
      // A request deadline shorter than the first stream: it completes only
      // because the example's route sets `config.scope.timeout: false`.
      scope: { name: "browser-test", timeout: 200 },
      onStreamEnd(summary: StreamSummary) {
        summaries.push(summary);
        for (const listener of [...listeners]) listener();
      },
    });
    origin = await listenLocal(app);
    ({ browser, close: closeBrowser } = await launchBrowser());
  });

  after(async () => {
    await closeBrowser?.();
    await bounded(app?.close() ?? Promise.resolve(), 10_000, "app.close()");
  });

  it("the page's EventSource receives every event in order, then the end event", async () => {
    const page = await browser.newPage();
    try {
      const response = await page.goto(`${origin}/?count=25&interval=20`);
      assert.equal(response?.status(), 200);
      await page.waitForSelector('#status[data-state="done"]', { timeout: 10_000 });
      const received = await page.$$eval(
        "#events li",
        (items) => items.map((item) => [item.getAttribute("data-n"), item.getAttribute("data-id")]),
      );
      const expected = Array.from({ length: 25 }, (_, n) => [String(n), String(n)]);
      assert.deepEqual(received, expected);
      const summary = await waitFor(summaries, listeners, (s) => s.reason === "done", 2_000);
      assert.equal(summary.sent, 25);
    } finally {
      await page.close();
    }
  });

  it("a reconnecting client resumes after its Last-Event-ID", async () => {
    // What an EventSource sends when it reconnects after a dropped connection.
    const response = await fetch(`${origin}/events?count=5&interval=1`, {
      headers: { accept: "text/event-stream", "last-event-id": "2" },
    });
    const text = await response.text();
    const ids = [...text.matchAll(/^id: (.*)$/gm)].map((match) => match[1]);
    assert.deepEqual(ids, ["3", "4"]);
    assert.match(text, /event: end\n/);
  });

  it("closing the page stops the server-side producer", async () => {
    const page = await browser.newPage();
    const count = 1_000_000;
    await page.goto(`${origin}/?count=${count}&interval=10`);
    // The stream is flowing: at least five events reached the page.
    await page.waitForSelector("#events li:nth-child(5)", { timeout: 10_000 });
    const shown = await page.$$eval("#events li", (items) => items.length);
    assert.equal(
      summaries.filter((s) => s.reason === "aborted").length,
      0,
      "no producer stopped yet",
    );

    const closedAt = performance.now();
    await page.close();
    const summary = await waitFor(summaries, listeners, (s) => s.reason === "aborted", 2_000);
    const stoppedAfter = performance.now() - closedAt;

    assert.ok(summary.sent >= shown, `the producer sent ${summary.sent}, the page showed ${shown}`);
    assert.ok(summary.sent < count, "the producer stopped before its end");
    // It stays stopped: nothing else ends or starts after it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(summaries.filter((s) => s.reason === "aborted").length, 1);
    console.log(
      `producer stopped ${
        stoppedAfter.toFixed(0)
      } ms after the page closed, having sent ${summary.sent} events`,
    );
  });
});
