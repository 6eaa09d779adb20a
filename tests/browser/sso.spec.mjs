// Single sign-on in headless Chromium (playwright-core, the system's Chromium), against the
// real OpenID provider (tests/oidc/provider.mjs, oidc-provider). Run by `cargo test`
// (tests/it/sso.rs, sso_sign_in_in_a_real_browser), which starts the app and the provider,
// configures SSO for the organization and passes in:
//
//   OUTFLOW_URL         the app
//   OUTFLOW_ISSUER      the provider
//   OUTFLOW_SSO_EMAIL   the work email typed on the app's SSO page …
//   OUTFLOW_SSO_LOGIN   … and the provider's account to log in as
//   OUTFLOW_CHROMIUM    the browser (default /usr/bin/chromium)
//   OUTFLOW_ARTIFACTS   where a failing step leaves a screenshot and the page's HTML
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
const ISSUER = need("OUTFLOW_ISSUER");
const EMAIL = need("OUTFLOW_SSO_EMAIL");
const LOGIN = need("OUTFLOW_SSO_LOGIN");
const CHROMIUM = process.env.OUTFLOW_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.OUTFLOW_ARTIFACTS || ".";
const DE = "/settings/organization/data_export";
const SHORT = 20_000;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US" })).newPage();
page.setDefaultTimeout(SHORT);
page.setDefaultNavigationTimeout(SHORT);
// Only the app's pages count: the provider's development login page is not ours.
const consoleErrors = [];
// The refused email's page answers 404 on purpose; the browser logs that status.
let expect404 = false;
page.on(
  "console",
  (m) =>
    m.type() === "error" &&
    page.url().startsWith(APP) &&
    !(expect404 && m.text().includes("status of 404")) &&
    consoleErrors.push(`${page.url()}: ${m.text()}`),
);
page.on("pageerror", (e) => page.url().startsWith(APP) && consoleErrors.push(`${page.url()}: ${e.message}`));

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

try {
  await step("the sign-in page offers “Sign in with SSO”, which asks for the work email", async () => {
    await page.goto(`${APP}/signin`);
    await Promise.all([page.waitForURL((u) => u.pathname === "/sso"), page.getByRole("link", { name: "Sign in with SSO" }).click()]);
    await page.getByRole("heading", { name: "Sign in with SSO" }).waitFor();
  });

  await step("an email no organization signs in with SSO is refused, naming it", async () => {
    await page.getByLabel("Work email").fill("someone@elsewhere.example");
    expect404 = true;
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("No organization signs in `someone@elsewhere.example` with single sign-on.").waitFor();
    expect404 = false;
  });

  await step("the work email leads to the provider's login page (code flow with PKCE)", async () => {
    await page.getByLabel("Work email").fill(EMAIL);
    // Several redirects in a row (app → provider → its interaction page): wait for where they
    // end, not for each one.
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator("input[name=login]").waitFor();
    check(page.url().startsWith(ISSUER), `at the provider: ${page.url()}`);
  });

  await step("logging in at the provider lands back in the app, signed in", async () => {
    await page.locator("input[name=login]").fill(LOGIN);
    await page.locator("input[name=password]").fill("any password: the provider's development login");
    // The provider sends the browser to the app's callback, whose page refreshes to the
    // data export page once the session cookie is set.
    await page.locator("button[type=submit]").first().click();
    await page.getByRole("navigation", { name: "Organization settings" }).waitFor();
    check(new URL(page.url()).pathname === DE, `landed on ${page.url()}`);
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    const body = await page.textContent("body");
    check(body.includes(EMAIL), `the signed-in admin's email is shown: ${body.slice(0, 400)}`);
  });

  await step("the session works across pages, and signing out ends it", async () => {
    await page.goto(`${APP}/settings/organization/reports`);
    check(new URL(page.url()).pathname === "/settings/organization/reports", `still signed in: ${page.url()}`);
    await Promise.all([page.waitForURL((u) => u.pathname === "/signin"), page.getByRole("button", { name: "Sign out" }).click()]);
    await page.goto(`${APP}${DE}`);
    check(new URL(page.url()).pathname === "/signin", `signed out: ${page.url()}`);
  });

  check(consoleErrors.length === 0, `browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
  await browser.close();
} catch (e) {
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    await page.screenshot({ path: join(ARTIFACTS, "sso-failure.png"), fullPage: true });
    writeFileSync(join(ARTIFACTS, "sso-failure.html"), await page.content());
  } catch (_) {
    /* the page may be gone */
  }
  console.error(`FAILED at step "${current}" on ${page.url()}`);
  console.error(e && e.stack ? e.stack : String(e));
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  await browser.close();
  process.exit(1);
}
