// Roles and the Admins page in headless Chromium (issue 16), run by `cargo test`
// (tests/it/browser_roles.rs), which starts the app, a real SMTP server and a control server:
//
//   OUTFLOW_URL              the app
//   OUTFLOW_OWNER_EMAIL      an owner of the organization …
//   OUTFLOW_OWNER_PASSWORD   … and their password
//   OUTFLOW_VIEWER_EMAIL     a viewer …
//   OUTFLOW_VIEWER_PASSWORD  … and theirs
//   OUTFLOW_CONTROL_URL      POST /mail answers the emails the SMTP server received
//   OUTFLOW_CHROMIUM, OUTFLOW_ARTIFACTS, OUTFLOW_SCREENSHOTS=1 / OUTFLOW_SCREENSHOT_DIR as in
//   admin.spec.mjs
//
// Every wait is on a condition with a deadline. Prints one line per step, then PASSED.

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
const OWNER = need("OUTFLOW_OWNER_EMAIL");
const OWNER_PW = need("OUTFLOW_OWNER_PASSWORD");
const VIEWER = need("OUTFLOW_VIEWER_EMAIL");
const VIEWER_PW = need("OUTFLOW_VIEWER_PASSWORD");
const CONTROL = need("OUTFLOW_CONTROL_URL");
const CHROMIUM = process.env.OUTFLOW_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.OUTFLOW_ARTIFACTS || ".";
const SHOTS = process.env.OUTFLOW_SCREENSHOTS === "1" ? need("OUTFLOW_SCREENSHOT_DIR") : null;

const DE = "/settings/organization/data_export";
const ADMINS = "/settings/organization/admins";
const INVITED = "ana@acme.example";
const SHORT = 20_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

// Failed loads and script errors fail the run, except the refusals a step expects.
const problems = [];
const expected = [];
function expectRefusal(path, status) {
  expected.push({ path, status });
}
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(SHORT);
  page.setDefaultNavigationTimeout(SHORT);
  page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() < 400) return;
    const path = new URL(r.url()).pathname;
    if (!expected.some((e) => path === e.path && r.status() === e.status)) {
      problems.push(`${r.request().method()} ${r.url()} answered ${r.status()}`);
    }
  });
  return page;
}

let current = "start";
let page = await newPage();
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

async function assertLabelled(p, where) {
  const bad = await p.evaluate(() => {
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

async function signIn(p, email, password) {
  await p.goto(`${APP}/signin`);
  await p.getByLabel("Email").fill(email);
  await p.getByLabel("Password").fill(password);
  await Promise.all([p.waitForURL((u) => u.pathname === DE), p.getByRole("button", { name: "Sign in" }).click()]);
}

async function navLinks(p) {
  return p.getByRole("navigation", { name: "Organization settings" }).getByRole("link").allTextContents();
}

async function submitAndWait(p, locator, pattern) {
  await Promise.all([p.waitForURL(pattern), locator.click()]);
}

async function screenshot(p, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, name), fullPage: true });
  console.log(`     screenshot ${join(SHOTS, name)}`);
}

let invitee = null;
try {
  await step("a viewer sees only what a viewer may open, and a 403 page elsewhere", async () => {
    await signIn(page, VIEWER, VIEWER_PW);
    const links = await navLinks(page);
    check(links.includes("Data export") && links.includes("Reports"), `viewer nav: ${links}`);
    for (const hidden of ["API keys", "Privacy", "Admins"]) {
      check(!links.includes(hidden), `a viewer's navigation offers ${hidden}: ${links}`);
    }
    await page.locator(".who .role", { hasText: "Viewer" }).waitFor();
    for (const path of ["/settings/organization/api_keys", ADMINS, `${DE}/drains/new`]) {
      expectRefusal(path, 403);
      const r = await page.goto(`${APP}${path}`);
      check(r.status() === 403, `${path} answered ${r.status()} to a viewer`);
      await page.getByRole("heading", { name: "Not allowed" }).waitFor();
      await page.getByText("Your role, Viewer, may not open this page").waitFor();
    }
  });

  await step("the viewer searches the audit log from the navigation", async () => {
    await page.goto(`${APP}${DE}`);
    const nav = page.getByRole("navigation", { name: "Organization settings" });
    await Promise.all([page.waitForURL(/audit_log/), nav.getByRole("link", { name: "Audit log" }).click()]);
    await assertLabelled(page, "Audit log");
    check((await page.getByRole("button", { name: "Export CSV" }).count()) === 0, "a viewer is offered Export CSV");
    await page.getByLabel("Event type").fill("admin_signed_in");
    await Promise.all([page.waitForURL(/event_type=admin_signed_in/), page.getByRole("button", { name: "Search" }).click()]);
    await page.locator('tr[data-event="admin_signed_in"]').first().waitFor();
    check((await page.locator('tr[data-event]:not([data-event="admin_signed_in"])').count()) === 0, "only the searched type");
    await screenshot(page, "audit-log.png");
    await Promise.all([page.waitForURL(/\/signin$/), page.getByRole("button", { name: "Sign out" }).click()]);
  });

  await step("an owner invites an analyst from the Admins page", async () => {
    await signIn(page, OWNER, OWNER_PW);
    const nav = page.getByRole("navigation", { name: "Organization settings" });
    await Promise.all([page.waitForURL((u) => u.pathname === ADMINS), nav.getByRole("link", { name: "Admins" }).click()]);
    await assertLabelled(page, "Admins page");
    await page.getByLabel("Email").fill(INVITED);
    await page.getByLabel("Role", { exact: true }).selectOption("analyst");
    await submitAndWait(page, page.getByRole("button", { name: "Send invitation" }), /notice=invited/);
    await page.getByRole("status").filter({ hasText: "Invitation sent" }).waitFor();
    await page.locator(`tr[data-invite="${INVITED}"]`).waitFor();
    await screenshot(page, "admins-page.png");
  });

  await step("the emailed one-time link lets the analyst choose a password and sign in", async () => {
    const deadline = Date.now() + SHORT;
    let link = null;
    while (!link) {
      check(Date.now() < deadline, "no invitation email arrived");
      const r = await fetch(`${CONTROL}/mail`, { method: "POST" });
      const mails = await r.json();
      const body = mails.map((m) => m.body).join("\n");
      link = body.split("\n").find((l) => l.startsWith(APP) && l.includes("/invite/"));
      if (!link) await new Promise((res) => setTimeout(res, 50)); // polling the mailbox
    }
    invitee = await newPage();
    await invitee.goto(link.trim());
    await invitee.getByRole("heading", { name: /^Join / }).waitFor();
    await assertLabelled(invitee, "invitation page");
    await invitee.getByLabel("Choose a password").fill("a long enough passphrase");
    await submitAndWait(invitee, invitee.getByRole("button", { name: "Join and sign in" }), (u) => u.pathname === DE);
    const links = await navLinks(invitee);
    check(!links.includes("API keys") && !links.includes("Admins"), `analyst nav: ${links}`);
    await invitee.locator(".who .role", { hasText: "Analyst" }).waitFor();
    // Spent: the link does not work again.
    const path = new URL(link.trim()).pathname;
    expectRefusal(path, 404);
    const again = await (await newPage()).goto(link.trim());
    check(again.status() === 404, `a used link answered ${again.status()}`);
  });

  await step("the owner changes the analyst's role, ends their session and removes them", async () => {
    await page.goto(`${APP}${ADMINS}`);
    const row = page.locator(`tr[data-admin="${INVITED}"]`);
    await row.getByLabel(`Role of ${INVITED}`, { exact: true }).selectOption("viewer");
    await submitAndWait(page, row.getByRole("button", { name: `Change the role of ${INVITED}` }), /notice=role_changed/);
    await invitee.reload();
    await invitee.locator(".who .role", { hasText: "Viewer" }).waitFor();

    const session = page.locator(`tr[data-session="${INVITED}"]`);
    await submitAndWait(page, session.getByRole("button", { name: `End the session of ${INVITED}` }), /notice=session_revoked/);
    await invitee.reload();
    await invitee.waitForURL(/\/signin\?next=/);

    page.once("dialog", (d) => d.accept());
    await submitAndWait(page, page.locator(`tr[data-admin="${INVITED}"]`).getByRole("button", { name: `Remove ${INVITED}` }), /notice=removed/);
    check((await page.locator(`tr[data-admin="${INVITED}"]`).count()) === 0, "the analyst is gone");
  });

  await step("the Admins page works with the keyboard alone", async () => {
    await page.goto(`${APP}${ADMINS}`);
    await page.getByLabel("Email").focus();
    await page.keyboard.type("kb@acme.example");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement.id);
    check(focused === "invite-role", `Tab from the email reaches the role, not ${focused}`);
    await page.keyboard.press("Tab");
    await Promise.all([page.waitForURL(/notice=invited/), page.keyboard.press("Enter")]);
    await page.locator('tr[data-invite="kb@acme.example"]').waitFor();
  });

  check(problems.length === 0, `browser errors:\n  ${problems.join("\n  ")}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
  await browser.close();
} catch (e) {
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    await page.screenshot({ path: join(ARTIFACTS, "roles-failure.png"), fullPage: true });
    writeFileSync(join(ARTIFACTS, "roles-failure.html"), await page.content());
  } catch (_) {
    /* the page may be gone */
  }
  console.error(`FAILED at step "${current}": ${e.stack || e}`);
  await browser.close();
  process.exit(1);
}
