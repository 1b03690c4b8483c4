/**
 * In Debian's chromium (through playwright-core): a page whose WebSocket a proxy would block falls back to
 * HTTP-streaming or SSE with centrifuge's browser bundle, cross-origin (CORS from `client.allowed_origins`),
 * and receives a publication.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { findBinary } from "../helpers/daemon.js";
import { emulationConfig } from "../helpers/emulation.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { toolMissing } from "../helpers/tools.js";

const chromiumPath = findBinary("chromium");
const chromiumMissing = toolMissing(
  chromiumPath === undefined ? "chromium is not installed (apt-get install -y chromium)" : false,
);

const bundle = readFileSync(new URL("../../node_modules/centrifuge/dist/centrifuge.js", import.meta.url));
const page = `<!doctype html><html><head><script src="/centrifuge.js"></script></head><body></body></html>`;

/** Every WebSocket the page opens goes nowhere, as behind a proxy that blocks upgrades. */
const blockWebSocket = `{
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) { super("ws://127.0.0.1:9/blocked", protocols); }
  };
}`;

/** What the page saw, set by the script it runs. */
interface PageState {
  transport?: string;
  subscribed?: boolean;
  received?: unknown;
}

/** The page's global scope, as the scripts below use it. */
interface PageGlobals {
  state: PageState;
  Centrifuge: typeof import("centrifuge").Centrifuge;
}

describe("a browser falls back from a blocked WebSocket", { skip: chromiumMissing, timeout: 120_000 }, () => {
  let server: TestServer;
  let pages: Server;
  let pageOrigin: string;
  let browser: Browser;

  before(async () => {
    pages = createServer((req, res) => {
      if (req.url === "/centrifuge.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(bundle);
      else res.writeHead(200, { "Content-Type": "text/html" }).end(page);
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    server = await startTestServer({
      ...emulationConfig,
      client: { ...emulationConfig.client, allowed_origins: [pageOrigin] },
    });
    browser = await within(
      chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
      }),
      "chromium started",
      60_000,
    );
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    pages?.close();
  });

  for (const fallback of ["http_stream", "sse"]) {
    it(`websocket blocked → ${fallback}: receives a publication`, async () => {
      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        await tab.addInitScript({ content: blockWebSocket });
        await within(tab.goto(pageOrigin), "the page loaded");
        const base = `http://127.0.0.1:${server.port}`;
        const channel = `chat:browser-${fallback}`;
        await tab.evaluate(
          ({ base, fallback, channel, token }) => {
            const page = globalThis as unknown as PageGlobals;
            const state: PageState = {};
            page.state = state;
            const { Centrifuge } = page;
            const client = new Centrifuge(
              [
                { transport: "websocket", endpoint: `${base.replace("http", "ws")}/connection/websocket` },
                { transport: fallback as "http_stream" | "sse", endpoint: `${base}/connection/${fallback}` },
              ],
              {
                token,
                emulationEndpoint: `${base}/emulation`,
                minReconnectDelay: 50,
                maxReconnectDelay: 200,
              },
            );
            client.on("connected", (ctx) => (state.transport = ctx.transport));
            const sub = client.newSubscription(channel);
            sub.on("subscribed", () => (state.subscribed = true));
            sub.on("publication", (ctx) => (state.received = ctx.data));
            sub.subscribe();
            client.connect();
          },
          { base, fallback, channel, token: await connectToken(`browser-${fallback}`) },
        );
        const state = () => (globalThis as unknown as PageGlobals).state;
        await within(
          tab.waitForFunction(() => (globalThis as unknown as PageGlobals).state.subscribed === true),
          "the page subscribed",
          30_000,
        );
        await server.server.node.publish(channel, new TextEncoder().encode('{"hello":"browser"}'));
        await within(
          tab.waitForFunction(() => (globalThis as unknown as PageGlobals).state.received !== undefined),
          "the page's publication",
          30_000,
        );
        const seen = await tab.evaluate(state);
        assert.equal(seen.transport, fallback);
        assert.deepEqual(seen.received, { hello: "browser" });
      } finally {
        await context.close();
      }
    });
  }
});
