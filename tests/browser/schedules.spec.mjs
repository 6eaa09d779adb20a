// The Schedules tab and a schedule's page in headless Chromium (playwright-core, the system's
// Chromium). Run by `cargo test` (tests/it/schedules.rs, schedules_in_a_real_browser), which
// starts the app with one schedule created through the API and passes in:
//
//   OUTFLOW_URL             the app
//   OUTFLOW_ADMIN_EMAIL     an organization admin …
//   OUTFLOW_ADMIN_PASSWORD  … and the password `add_admin` generated
//   OUTFLOW_SCHEDULE        the schedule's name
//   OUTFLOW_CHROMIUM        the browser (default /usr/bin/chromium)
//   OUTFLOW_ARTIFACTS       where a failing step leaves a screenshot and the page's HTML
//
// Every wait is on a condition with a deadline; no fixed sleeps. Prints one line per step and
// exits non-zero on the first failure.

import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

const APP = need("OUTFLOW_URL");
const EMAIL = need("OUTFLOW_ADMIN_EMAIL");
const PASSWORD = need("OUTFLOW_ADMIN_PASSWORD");
const NAME = need("OUTFLOW_SCHEDULE");
const CHROMIUM = process.env.OUTFLOW_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.OUTFLOW_ARTIFACTS || ".";
const DE = "/settings/organization/data_export";
const SHORT = 20_000;
const LONG = 60_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" })).newPage();
page.setDefaultTimeout(SHORT);
page.setDefaultNavigationTimeout(SHORT);
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(`${page.url()}: ${m.text()}`));
page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));

let current = "start";
const started = Date.now();
async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}
function check(cond, message) {
  if (!cond) throw new Error(message);
}
async function submit(locator, urlPattern) {
  const navigated = page.waitForEvent("framenavigated", { predicate: (f) => f === page.mainFrame() });
  await locator.click();
  await navigated;
  await page.waitForLoadState("load");
  check(urlPattern.test(page.url()), `landed on ${page.url()}, expected ${urlPattern}`);
}
const row = () => page.locator("tbody tr").filter({ has: page.getByRole("link", { name: NAME, exact: true }) });

try {
  await step("sign in and open the Schedules tab beside Exports and Drains", async () => {
    await page.goto(`${APP}/signin`);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await submit(page.getByRole("button", { name: "Sign in" }), new RegExp(DE));
    const tabs = page.getByRole("navigation", { name: "Data export" });
    await tabs.getByRole("link", { name: "Exports" }).waitFor();
    await tabs.getByRole("link", { name: "Drains" }).waitFor();
    await submit(tabs.getByRole("link", { name: "Schedules" }), /tab=schedules/);
    await row().waitFor();
    const cadence = await row().locator("[data-role=cadence]").textContent();
    check(cadence.trim() === "Monthly on the 1st at 06:00, Europe/Berlin", `cadence in words: ${cadence}`);
    await row().getByText("Not run yet").waitFor();
    await row().locator("[data-role=status]", { hasText: "Active" }).waitFor();
  });

  await step("run now queues the latest month; the last run shows its badge until COMPLETED", async () => {
    await submit(row().getByRole("button", { name: `Run schedule ${NAME} now` }), /notice=schedule_run/);
    await page.getByRole("status").filter({ hasText: "most recent complete period was queued" }).waitFor();
    const deadline = Date.now() + LONG;
    for (;;) {
      const state = (await row().locator("[data-role=run-state]").textContent()).trim();
      if (state === "COMPLETED") break;
      check(Date.now() < deadline, `the run is still ${state}`);
      await page.reload();
      await row().waitFor();
    }
  });

  await step("the schedule's page lists the run with its download link", async () => {
    await submit(row().getByRole("link", { name: NAME, exact: true }), /schedules\/sch_/);
    await page.getByRole("heading", { name: NAME }).waitFor();
    const runs = page.locator("tbody tr");
    check((await runs.count()) === 1, "one run");
    await runs.first().getByRole("link", { name: "Download" }).waitFor();
    const href = await runs.first().getByRole("link", { name: "Download" }).getAttribute("href");
    check(href.includes("/v1/downloads/") && href.includes("signature="), `a signed link: ${href}`);
  });

  await step("pause and resume from the schedule's page", async () => {
    await submit(page.getByRole("button", { name: `Pause schedule ${NAME}` }), /notice=schedule_paused/);
    await page.locator("[data-role=status]", { hasText: "Paused" }).waitFor();
    await submit(page.getByRole("button", { name: `Resume schedule ${NAME}` }), /notice=schedule_resumed/);
    await page.locator("[data-role=status]", { hasText: "Active" }).waitFor();
  });

  await step("delete asks in the browser first, then removes the schedule", async () => {
    page.once("dialog", (d) => d.dismiss());
    await page.getByRole("button", { name: `Delete schedule ${NAME}` }).click();
    check(/schedules\/sch_/.test(page.url()), "dismissing the dialog keeps the schedule");
    // Accepted in the browser, the script confirms for the server (no second page).
    page.once("dialog", (d) => d.accept());
    await submit(page.getByRole("button", { name: `Delete schedule ${NAME}` }), /notice=schedule_deleted/);
    await page.getByRole("status").filter({ hasText: "Schedule deleted" }).waitFor();
    check((await row().count()) === 0, "the row is gone");
  });

  check(consoleErrors.length === 0, `browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
  await browser.close();
} catch (e) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, "schedules-failure.png");
  try {
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(ARTIFACTS, "schedules-failure.html"), await page.content());
  } catch (_) {
    /* the page may be gone */
  }
  console.error(`FAILED at step "${current}" on ${page.url()}`);
  console.error(e && e.stack ? e.stack : String(e));
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  await browser.close();
  process.exit(1);
}
