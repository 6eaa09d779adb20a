// The admin pages in headless Chromium, driven by playwright-core (no bundled browser: the
// system's Chromium through `executablePath`). Run by `cargo test` (tests/it/browser.rs),
// which starts the app, a local HTTP receiver and a small control server, and passes them in:
//
//   OUTFLOW_URL             the app, e.g. http://127.0.0.1:41234
//   OUTFLOW_ADMIN_EMAIL     an organization admin …
//   OUTFLOW_ADMIN_PASSWORD  … and the password `add_admin` generated
//   OUTFLOW_RECEIVER_URL    the local receiver drains deliver to
//   OUTFLOW_CONTROL_URL     POST /ingest?prefix=P&n=N ingests N workflow runs through the API
//                           with the ingest key; POST /receiver?status=S makes the receiver
//                           answer S from now on
//   OUTFLOW_CHROMIUM        the browser (default /usr/bin/chromium)
//   OUTFLOW_ARTIFACTS       where a failing step leaves a screenshot and the page's HTML
//   OUTFLOW_SCREENSHOTS=1   also write the README screenshots to OUTFLOW_SCREENSHOT_DIR
//
// Every wait is on a condition with a deadline; there are no fixed sleeps. Prints one line per
// step and exits non-zero on the first failure.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
const RECEIVER = need("OUTFLOW_RECEIVER_URL");
const CONTROL = need("OUTFLOW_CONTROL_URL");
const CHROMIUM = process.env.OUTFLOW_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.OUTFLOW_ARTIFACTS || ".";
const SHOTS = process.env.OUTFLOW_SCREENSHOTS === "1" ? need("OUTFLOW_SCREENSHOT_DIR") : null;

const DE = "/settings/organization/data_export";
const DRAIN = "Workflow runs to the receiver";
// Deadlines: page interactions, and things the server does in the background (export jobs,
// drain cycles; the Drains tab polls every 3 s).
const SHORT = 20_000;
const LONG = 60_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  // Root in containers and CI cannot use Chromium's sandbox.
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({
  viewport: { width: 1280, height: 860 },
  acceptDownloads: true,
  locale: "en-US",
});
const page = await context.newPage();
page.setDefaultTimeout(SHORT);
page.setDefaultNavigationTimeout(SHORT);

// Script errors and CSP violations show up in the console, failed loads as responses: any of
// them fails the run, except the refusals a step provokes (`expectRefusal`).
const consoleErrors = [];
const expected = [];
function expectRefusal(method, path, status) {
  expected.push({ method, path, status });
}
const isExpected = (method, url, status) =>
  expected.some(
    (e) => (method === null || e.method === method) && new URL(url).pathname.endsWith(e.path) && (status === null || e.status === status),
  );
page.on("console", (m) => {
  if (m.type() !== "error") return;
  // A failed load (the favicon, a stylesheet…) is logged with its URL as the location.
  const failedLoad = m.text().startsWith("Failed to load resource");
  if (failedLoad && m.location().url && isExpected(null, m.location().url, null)) return;
  consoleErrors.push(`${m.location().url || page.url()}: ${m.text()}`);
});
page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
page.on("response", (r) => {
  if (r.status() < 400) return;
  const method = r.request().method();
  if (!isExpected(method, r.url(), r.status())) consoleErrors.push(`${method} ${r.url()} answered ${r.status()}`);
});

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

async function control(path) {
  const r = await fetch(`${CONTROL}${path}`, { method: "POST" });
  check(r.ok, `control ${path} answered ${r.status}`);
  return r.json();
}

/** Every visible form control has an accessible name: a label, aria-label or aria-labelledby. */
async function assertLabelled(where) {
  const bad = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll("input, select, textarea, button")) {
      if (el.type === "hidden") continue;
      const text = (s) => (s || "").trim() !== "";
      const named =
        text(el.getAttribute("aria-label")) ||
        text(el.getAttribute("aria-labelledby")) ||
        (el.tagName === "BUTTON" && text(el.textContent)) ||
        Array.from(el.labels || []).some((l) => text(l.textContent));
      if (!named) out.push(el.outerHTML.slice(0, 160));
    }
    return out;
  });
  check(bad.length === 0, `${where}: form controls without a label:\n  ${bad.join("\n  ")}`);
}

/** Geometry of every visible checkbox and radio: it keeps its 1.1rem square when its label
 * wraps, and its label starts on the box's line, to its right — no line of it wraps under the
 * box (flex items shrink and wrap unless told otherwise). */
async function assertBoxes(where) {
  const bad = await page.evaluate(() => {
    const out = [];
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    for (const box of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
      const b = box.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) continue; // not shown
      const name = `${box.name}=${box.value}`;
      if (Math.abs(b.width - 1.1 * rem) > 0.5 || Math.abs(b.height - 1.1 * rem) > 0.5) {
        out.push(`${name} is ${b.width.toFixed(1)}×${b.height.toFixed(1)}px`);
      }
      const rects = [];
      for (const node of box.parentElement.childNodes) {
        if (node === box) continue;
        if (node.nodeType === Node.TEXT_NODE) {
          if (!node.textContent.trim()) continue;
          const range = document.createRange();
          range.selectNodeContents(node);
          rects.push(...range.getClientRects());
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          rects.push(...node.getClientRects());
        }
      }
      const shown = rects.filter((r) => r.width > 0);
      if (shown.some((r) => r.left < b.right - 0.5)) out.push(`${name}: its label wraps under the box`);
      if (shown.length && shown[0].top >= b.bottom) out.push(`${name}: its label starts below the box`);
    }
    return out;
  });
  check(bad.length === 0, `${where} (${page.viewportSize().width}px wide):\n  ${bad.join("\n  ")}`);
}

/** assertBoxes on a laptop and on phones, back to the laptop after. */
async function assertBoxesAtWidths(where) {
  for (const width of [1280, 390, 320]) {
    await page.setViewportSize({ width, height: 860 });
    await assertBoxes(where);
  }
  await page.setViewportSize({ width: 1280, height: 860 });
}

async function screenshot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
  console.log(`     screenshot ${join(SHOTS, name)}`);
}

/** Clicks something that submits a form or follows a link, and waits for the next page to
 * load (wizard steps post to their own URL, so the URL alone does not tell). */
async function submit(locator, urlPattern) {
  const navigated = page.waitForEvent("framenavigated", { predicate: (f) => f === page.mainFrame() });
  await locator.click();
  await navigated;
  await page.waitForLoadState("load");
  check(urlPattern.test(page.url()), `landed on ${page.url()}, expected ${urlPattern}`);
}

const drainRow = () =>
  page.locator("tbody tr").filter({ has: page.getByRole("link", { name: DRAIN, exact: true }) });

async function drainsTab() {
  await page.getByRole("navigation", { name: "Data export" }).getByRole("link", { name: "Drains" }).click();
  await page.waitForURL(/tab=drains/);
  await assertLabelled("Drains tab");
}

try {
  await step("sign-in refuses a wrong password", async () => {
    await page.goto(`${APP}${DE}`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill("not-the-password");
    expectRefusal("POST", "/signin", 401);
    await submit(page.getByRole("button", { name: "Sign in" }), /\/signin/);
    await page.getByRole("alert").filter({ hasText: "not correct" }).waitFor();
  });

  await step("sign-in with the keyboard only (autofocus, Tab, Enter)", async () => {
    await page.goto(`${APP}/signin`);
    await assertLabelled("sign-in");
    const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
    check((await focused()) === "email", `the email field has the focus, not ${await focused()}`);
    await page.keyboard.type(EMAIL);
    await page.keyboard.press("Tab");
    check((await focused()) === "password", "Tab moves to the password field");
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === DE), page.keyboard.press("Enter")]);
    await page.getByRole("heading", { name: "Usage data export" }).waitFor();
    await page.locator(".who .email", { hasText: EMAIL }).waitFor();
    // The first Tab on a page reaches the skip link.
    await page.keyboard.press("Tab");
    const first = await page.evaluate(() => document.activeElement.textContent.trim());
    check(first === "Skip to content", `the first Tab stop is the skip link, not "${first}"`);
    await assertLabelled("Exports tab");
  });

  await step("Add Drain for audit logs: one Next reaches Fields; boxes keep their size", async () => {
    await drainsTab();
    await submit(page.getByRole("link", { name: "+ Add Drain" }), /drains\/new/);
    // At 1280px the type cards are ≈200px wide: "Tool Calls (Gumstack)" wraps beside its radio.
    await assertBoxesAtWidths("drain wizard: type");
    await page.getByLabel("Audit Logs").check();
    await submit(page.getByRole("button", { name: "Next" }), /drains\/new/);
    await page.locator("[aria-current=step]", { hasText: "Fields" }).waitFor();
    await page.getByRole("radio", { name: /^Custom/ }).check();
    await page.locator("#custom-fields").waitFor({ state: "visible" });
    await assertBoxesAtWidths("drain wizard: custom fields");
    await submit(page.getByRole("link", { name: "Cancel" }), /tab=drains/);
    await page.goto(`${APP}${DE}`);
  });

  await step("export wizard: workflow runs, custom range, a searched team, custom fields", async () => {
    await submit(page.getByRole("link", { name: "+ New Export" }), /exports\/new/);
    await assertLabelled("export wizard: type");
    await page.getByLabel("Workflow Runs").check();
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);

    await page.locator("[aria-current=step]", { hasText: "Date range" }).waitFor();
    await assertLabelled("export wizard: range");
    // The organization's zone is preselected.
    check((await page.getByLabel("Time zone").inputValue()) === "Europe/Berlin", "org timezone preselected");
    await page.getByLabel("Period").selectOption("custom");
    await page.getByLabel("Start date").waitFor({ state: "visible" });
    await page.getByLabel("Start date").fill("2026-03-10");
    await page.getByLabel(/^End date/).fill("2026-03-01");
    // End before start: a visible message at once, and the browser refuses to submit.
    await page.locator("#range-error", { hasText: "on or after the start date" }).waitFor();
    await page.getByRole("button", { name: "Next" }).click();
    check(/exports\/new$/.test(page.url()), "still on the range step");
    await page.locator("[aria-current=step]", { hasText: "Date range" }).waitFor();
    await page.getByLabel("Start date").fill("2026-03-01");
    await page.getByLabel(/^End date/).fill("2026-03-31");
    await page.locator("#range-error").filter({ hasText: /^$/ }).waitFor({ state: "attached" });
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);

    await page.locator("[aria-current=step]", { hasText: "Teams" }).waitFor();
    await assertLabelled("export wizard: teams");
    await assertBoxesAtWidths("export wizard: teams");
    await page.getByLabel("Search teams").fill("eng");
    await page.getByText("Marketing").waitFor({ state: "hidden" });
    await page.getByLabel("Engineering", { exact: true }).check();
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);

    await page.locator("[aria-current=step]", { hasText: "Fields and format" }).waitFor();
    await assertLabelled("export wizard: fields");
    const custom = page.locator("#custom-fields");
    check(await custom.isHidden(), "custom fields hidden until Custom is chosen");
    await page.getByRole("radio", { name: /^Custom/ }).check();
    await custom.waitFor({ state: "visible" });
    const checked = custom.locator("input[type=checkbox]:checked");
    while ((await checked.count()) > 0) await checked.first().uncheck();
    await custom.locator("input[value=run_id]").check();
    await custom.locator("input[value=credit_cost]").check();
    await page.getByLabel("Format").selectOption("csv");
    await submit(page.getByRole("button", { name: "Create export" }), /notice=export_created/);
    await page.getByRole("status").filter({ hasText: "Export requested" }).waitFor();
  });

  await step("export wizard: an organization-wide type skips the team step", async () => {
    await submit(page.getByRole("link", { name: "+ New Export" }), /exports\/new/);
    await page.getByLabel("Audit Logs").check();
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);
    await page.locator("[aria-current=step]", { hasText: "Date range" }).waitFor();
    await page.getByLabel("Period").selectOption("last_7_days");
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);
    // Audit logs have row filters of their own (event types), on a step of their own; this
    // export leaves them open.
    await page.locator("[aria-current=step]", { hasText: "Filters" }).waitFor();
    await submit(page.getByRole("button", { name: "Next" }), /exports\/new/);
    await page.locator("[aria-current=step]", { hasText: "Fields and format" }).waitFor();
    check((await page.locator("ol.steps li", { hasText: "Teams" }).count()) === 0, "no Teams step");
    await page.getByRole("radio", { name: /^Full/ }).check();
    await page.getByLabel("Format").selectOption("ndjson");
    await page.getByLabel(/Compress with gzip/).check();
    await submit(page.getByRole("button", { name: "Create export" }), /notice=export_created/);
  });

  await step("the Exports tab shows both jobs completing; the CSV downloads", async () => {
    const rows = page.locator("tbody tr[data-id]");
    check((await rows.count()) === 2, "two exports listed");
    // The tab polls while a job runs and updates the badge and the download cell in place.
    for (const row of await rows.all()) {
      await row.locator("[data-role=state]", { hasText: /^COMPLETED$/ }).waitFor({ timeout: LONG });
      await row.getByRole("link", { name: "Download" }).waitFor({ timeout: LONG });
    }
    const csvRow = rows.filter({ hasText: "Workflow Runs" });
    await csvRow.getByText("3 rows").waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      csvRow.getByRole("link", { name: "Download" }).click(),
    ]);
    check(download.suggestedFilename().endsWith(".csv"), `a .csv file, not ${download.suggestedFilename()}`);
    const text = readFileSync(await download.path(), "utf8");
    const lines = text.trim().split(/\r?\n/);
    const header = lines[0].split(",").sort().join(",");
    check(header === "credit_cost,run_id", `the CSV header is the chosen fields, not "${lines[0]}"`);
    check(lines.length === 4, `a header and 3 rows, not ${lines.length} lines:\n${text}`);
    await screenshot("exports-tab.png");
  });

  await step("Add Drain wizard: workflow runs → every team → minimal fields → custom endpoint", async () => {
    await drainsTab();
    await submit(page.getByRole("link", { name: "+ Add Drain" }), /drains\/new/);
    await assertLabelled("drain wizard: type");
    await page.getByLabel("Workflow Runs").check();
    await submit(page.getByRole("button", { name: "Next" }), /drains\/new/);
    await page.locator("[aria-current=step]", { hasText: "Scope" }).waitFor();
    await assertLabelled("drain wizard: scope");
    await submit(page.getByRole("button", { name: "Next" }), /drains\/new/);
    await page.locator("[aria-current=step]", { hasText: "Fields" }).waitFor();
    await assertLabelled("drain wizard: fields");
    await page.getByRole("radio", { name: /^Minimal/ }).check();
    await submit(page.getByRole("button", { name: "Next" }), /drains\/new/);

    await page.locator("[aria-current=step]", { hasText: "Destination" }).waitFor();
    await assertLabelled("drain wizard: destination");
    await page.getByLabel("Drain name").fill(DRAIN);
    // Only the chosen destination's settings are shown.
    await page.getByRole("radio", { name: /Datadog/ }).check();
    await page.getByLabel("Site").waitFor({ state: "visible" });
    check(await page.getByLabel("Endpoint URL").isHidden(), "endpoint settings hidden for Datadog");
    await page.getByRole("radio", { name: /Custom endpoint/ }).check();
    await page.getByLabel("Endpoint URL").waitFor({ state: "visible" });
    await page.getByLabel("Endpoint URL").fill(`${RECEIVER}/hook`);
    await page.getByLabel("Format", { exact: true }).selectOption("ndjson");
    await page.getByLabel(/^Authorization header/).fill("Bearer browser-test");
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await screenshot("add-drain.png");
    await submit(
      page.getByRole("button", { name: "Check destination and create drain" }),
      /notice=drain_created/,
    );
    await page.getByRole("status").filter({ hasText: "passed its preflight check" }).waitFor();
    await page.getByRole("heading", { name: DRAIN }).waitFor();
    check(!(await page.content()).includes("browser-test"), "the credential is not shown back");
    await assertLabelled("drain detail");
  });

  await step("edit the drain: gzip on, the credentials kept", async () => {
    await submit(page.getByRole("link", { name: "Edit", exact: true }), /\/drains\/[^/?]+\/edit$/);
    await assertLabelled("drain edit");
    check((await page.getByLabel("Drain name").inputValue()) === DRAIN, "the form is prefilled");
    check(await page.getByRole("radio", { name: /Keep the drain's current credentials/ }).isChecked(), "credentials kept by default");
    await page.getByLabel(/Compress bodies with gzip/).check();
    await submit(page.getByRole("button", { name: "Check and save" }), /notice=drain_updated/);
    await page.getByRole("status").filter({ hasText: "Drain saved." }).waitFor();
    await page.locator("dd", { hasText: /NDJSON · gzip/ }).waitFor();
  });

  await step("the drain is Active and its Last Synced updates after records are ingested", async () => {
    await page.getByRole("link", { name: "← Back to drains" }).click();
    await page.waitForURL(/tab=drains/);
    const row = drainRow();
    await row.locator("[data-role=status]", { hasText: /^Active$/ }).waitFor();
    const synced = row.locator("[data-role=synced]");
    check((await synced.innerText()).trim() === "—", "not synced before any record");
    await control("/ingest?prefix=live&n=5");
    // No reload: the tab's polling updates the row.
    // In the organization's zone, named (Europe/Berlin).
    await synced.filter({ hasText: /\d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T/ }).waitFor({ timeout: LONG });
    await screenshot("drains-tab.png");
  });

  await step("pause and resume from the Drains tab", async () => {
    const row = drainRow();
    await submit(row.getByRole("button", { name: `Pause drain ${DRAIN}` }), /notice=drain_paused/);
    await drainRow().locator("[data-role=status]", { hasText: /^Paused$/ }).waitFor();
    await submit(drainRow().getByRole("button", { name: `Resume drain ${DRAIN}` }), /notice=drain_resumed/);
    await drainRow().locator("[data-role=status]", { hasText: /^Active$/ }).waitFor();
    await page.getByRole("status").filter({ hasText: "Drain resumed." }).waitFor();
  });

  await step("the drain shows Error after the receiver fails three cycles", async () => {
    await control("/receiver?status=500");
    await control("/ingest?prefix=fail&n=2");
    await drainRow().locator("[data-role=status]", { hasText: /^Error$/ }).waitFor({ timeout: LONG });
    await submit(drainRow().getByRole("link", { name: DRAIN }), /\/drains\/[^/?]+$/);
    await page.getByRole("alert").filter({ hasText: "500" }).waitFor();
    await page.getByRole("link", { name: "← Back to drains" }).click();
    await page.waitForURL(/tab=drains/);
  });

  await step("a form posted without its CSRF token is refused with 403", async () => {
    const form = drainRow().locator("form", { has: page.getByRole("button", { name: /^Resume drain/ }) });
    await form.locator("input[name=csrf]").evaluate((el) => el.remove());
    expectRefusal("POST", "/resume", 403);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/resume")),
      form.getByRole("button").click(),
    ]);
    check(response.status() === 403, `answered ${response.status()}, not 403`);
    await page.getByRole("heading", { name: "Not allowed" }).waitFor();
    await page.goto(`${APP}${DE}?tab=drains`);
    await drainRow().locator("[data-role=status]", { hasText: /^Error$/ }).waitFor();
  });

  await step("resume after the receiver recovers, then delete with confirmation", async () => {
    await control("/receiver?status=200");
    await submit(drainRow().getByRole("button", { name: `Resume drain ${DRAIN}` }), /notice=drain_resumed/);
    await drainRow().locator("[data-role=status]", { hasText: /^Active$/ }).waitFor();
    // Dismissing the confirmation keeps the drain; accepting it deletes it.
    page.once("dialog", (d) => d.dismiss());
    await drainRow().getByRole("button", { name: `Delete drain ${DRAIN}` }).click();
    check((await drainRow().count()) === 1, "a dismissed confirmation deletes nothing");
    page.once("dialog", (d) => d.accept());
    await submit(drainRow().getByRole("button", { name: `Delete drain ${DRAIN}` }), /notice=drain_deleted/);
    check((await drainRow().count()) === 0, "the drain is gone");
  });

  await step("keys and privacy pages: every control labelled", async () => {
    const nav = page.getByRole("navigation", { name: "Organization settings" });
    await nav.getByRole("link", { name: "API keys" }).click();
    await page.waitForURL(/api_keys/);
    await assertLabelled("API keys");
    await assertBoxesAtWidths("API keys");
    await nav.getByRole("link", { name: "Privacy" }).click();
    await page.waitForURL(/privacy/);
    await assertLabelled("Privacy");
    await assertBoxesAtWidths("Privacy");
  });

  await step("readable on a phone: no sideways scrolling of the page", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const tab of ["exports", "drains"]) {
      await page.goto(`${APP}${DE}?tab=${tab}`);
      const [scroll, width] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      check(scroll <= width + 1, `${tab} tab is ${scroll}px wide on a ${width}px screen`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await step("analytics: tiles, the credits chart with hover titles, a day opens the export wizard", async () => {
    const nav = page.getByRole("navigation", { name: "Organization settings" });
    await nav.getByRole("link", { name: "Analytics" }).click();
    await page.waitForURL(/analytics/);
    await page.getByLabel("Range").selectOption("");
    await page.getByLabel("Start date").fill("2026-03-01");
    await page.getByLabel("End date").fill("2026-03-31");
    await submit(page.getByRole("button", { name: "Show" }), /analytics\?/);
    await assertLabelled("Analytics");
    const tile = page.locator("[data-tile=credits] .tile-value");
    check((await tile.innerText()).trim() === "7.50", `credits tile: ${await tile.innerText()}`);
    const chart = page.locator("svg[data-role=credits-chart]");
    await chart.waitFor();
    const titles = await chart.locator("title").allTextContents();
    check(titles.some((t) => t.startsWith("Engineering · 2026-03-10:")), `titles: ${titles}`);
    await page.getByText("Credits per day as a table").click();
    await page.locator("table[data-role=daily]").waitFor();
    await assertBoxesAtWidths("Analytics");
    await page.getByText("Credits per day as a table").click();
    await screenshot("analytics.png");
    await submit(chart.locator("a").first(), /exports\/new\?data_type=credit_logs/);
    check((await page.getByLabel("Start date").inputValue()) === "2026-03-10", "the day is prefilled");
    await page.goBack();
  });

  await step("sign out", async () => {
    await submit(page.getByRole("button", { name: "Sign out" }), /\/signin$/);
    await page.goto(`${APP}${DE}`);
    await page.waitForURL(/\/signin\?next=/);
  });

  check(consoleErrors.length === 0, `browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
  await browser.close();
} catch (e) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, "failure.png");
  try {
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(ARTIFACTS, "failure.html"), await page.content());
  } catch (_) {
    /* the page may be gone */
  }
  console.error(`FAILED at step "${current}" on ${page.url()}`);
  console.error(e && e.stack ? e.stack : String(e));
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  console.error(`screenshot and HTML of the page: ${shot}, ${join(ARTIFACTS, "failure.html")}`);
  await browser.close();
  process.exit(1);
}
