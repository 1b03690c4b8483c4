/**
 * The admin web UI in Debian's Chromium, driven by playwright-core: a wrong password is refused, the login
 * works, a publish from the Actions page reaches a `centrifuge` client, the live tail shows a publication sent
 * through the HTTP API, and the RPC playground calls a typed method and shows a validation error next to the
 * bad field. Screenshots of each step are saved in the test's temp dir (printed as a diagnostic).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { type Browser, chromium, type Page } from "playwright-core";
import { apiConfig, apiKey } from "../helpers/api.js";
import { collect, newClient } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { toolMissing } from "../helpers/tools.js";
import { ADMIN_PASSWORD, adminConfig, request, within } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const chromiumMissing = toolMissing(
  existsSync(CHROMIUM) ? false : "chromium is not installed (apt-get install -y chromium)",
);
const HANDLERS = fileURLToPath(new URL("./fixtures/handlers.ts", import.meta.url));

describe("admin web UI in Chromium", { skip: chromiumMissing }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let shots: string;
  let client: Centrifuge | undefined;
  let base: string;

  before(async () => {
    shots = await mkdtemp(join(tmpdir(), "turbine-admin-ui-"));
    server = await startTestServer({
      ...adminConfig,
      ...apiConfig,
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: { without_namespace: { allow_subscribe_for_client: true, join_leave: true, presence: true } },
      rpc: { handlers_module: HANDLERS },
    });
    base = `http://127.0.0.1:${server.port}/`;
    browser = await within(
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
      }),
      "chromium to start",
      60_000,
    );
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    client?.disconnect();
    await browser?.close();
    await server?.close();
  });

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(shots, `${name}.png`) });
  }

  it("refuses a wrong password", async (t) => {
    t.diagnostic(`screenshots in ${shots}`);
    await page.goto(base);
    await page.fill("input[name=password]", "not the password");
    await page.click("button[type=submit]");
    await page.getByRole("alert").getByText("Wrong password.").waitFor();
    assert.equal(await page.locator("nav").count(), 0);
    await shot("01-wrong-password");
  });

  it("logs in and shows the node's status, in a small page", async (t) => {
    await page.fill("input[name=password]", ADMIN_PASSWORD);
    await page.click("button[type=submit]");
    await page.locator("nav").waitFor();
    await page.locator('[data-testid="Nodes"]', { hasText: "1" }).waitFor();
    // Everything fetched since the page was opened: the document, modules, stylesheet and the API calls.
    const transferred = (await page.evaluate(
      `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
        .reduce((sum, entry) => sum + entry.transferSize, 0)`,
    )) as number;
    t.diagnostic(`page load transferred ${transferred} bytes`);
    assert.ok(transferred > 0 && transferred < 64 * 1024, `the page weighs ${transferred} bytes`);
    await shot("02-status");
  });

  it("publishes from the Actions page to a centrifuge client", async () => {
    client = newClient(server.url, "json", { token: await connectToken("watcher") });
    client.connect();
    const sub = client.newSubscription("news");
    const received = collect<PublicationContext>(sub, "publication", 1);
    sub.subscribe();
    await within(sub.ready(5000), "the centrifuge client's subscription");
    await page.goto(`${base}#/actions/publish`);
    const form = page.locator('form[data-method="publish"]');
    await form.locator("input[name=channel]").fill("news");
    await form.locator("textarea[name=data]").fill('{"text": "hello from the admin UI"}');
    await form.locator("button[type=submit]").click();
    await form.getByTestId("reply").waitFor();
    const [pub] = await within(received, "the publication at the centrifuge client");
    assert.deepEqual(pub?.data, { text: "hello from the admin UI" });
    await shot("03-publish");
  });

  it("shows a publication sent through the HTTP API in the live tail", async () => {
    await page.goto(`${base}#/tail`);
    await page.fill("input[name=channel]", "news");
    await page.click("button[name=tail]");
    await page.locator(".event.subscribed").waitFor();
    for (const text of ["first from the API", "second from the API"]) {
      const answer = await request(server.port, "/api/publish", {
        method: "POST",
        headers: { "X-API-Key": apiKey },
        body: JSON.stringify({ channel: "news", data: { text } }),
      });
      assert.equal(answer.status, 200);
      await page.locator(".event.publication", { hasText: text }).waitFor();
    }
    await shot("04-tail");
  });

  it("calls a typed RPC method from its schema's form, and shows a validation error at the bad field", async () => {
    await page.goto(`${base}#/rpc/tasks.create`);
    const form = page.locator('form[data-method="tasks.create"]');
    await form.locator('input[name="title"]').fill("Fix the login page");
    await form.locator('input[name="priority"]').fill("9");
    await form.locator('select[name="kind"]').selectOption("bug");
    await form.locator("button[type=submit]").click();
    const priority = form.locator("label.invalid", { has: page.locator('input[name="priority"]') });
    await priority.locator(".issue").waitFor();
    assert.match((await priority.locator(".issue").textContent()) ?? "", /expected number to be <=5/);
    assert.match((await form.getByRole("alert").textContent()) ?? "", /Error 422/);
    await shot("05-rpc-invalid");
    await form.locator('input[name="priority"]').fill("3");
    await form.locator("button[type=submit]").click();
    const reply = form.getByTestId("reply");
    await reply.waitFor();
    const result = JSON.parse((await reply.textContent()) ?? "{}") as { data: Record<string, unknown> };
    assert.deepEqual({ ...result.data, id: 0 }, { id: 0, title: "Fix the login page", priority: 3 });
    await shot("06-rpc-result");
  });
});
