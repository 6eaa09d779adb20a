// Keyboard-only use and labels on every control, page by page, in headless Chromium
// (playwright-core, the system's Chromium). Run by `cargo test` (tests/it/browser_keyboard.rs),
// which starts the app with a drain, a schedule and an export to show, and passes in:
//
//   OUTFLOW_URL             the app
//   OUTFLOW_ADMIN_EMAIL     an owner (every page is open to the owner) …
//   OUTFLOW_ADMIN_PASSWORD  … and the password `add_admin` generated
//   OUTFLOW_DRAIN_ID        a drain (its page and its Edit page)
//   OUTFLOW_SCHEDULE_ID     a schedule (its page)
//   OUTFLOW_EXPORT_ID       an export (its detail page)
//   OUTFLOW_CHROMIUM        the browser (default /usr/bin/chromium)
//   OUTFLOW_ARTIFACTS       where a failing step leaves a screenshot and the page's HTML
//   OUTFLOW_SCREENSHOTS=1 and OUTFLOW_SCREENSHOT_DIR: also write docs/screenshots/notifications.png
//
// On each page: every input, select, textarea and button has an accessible name; then the
// page is walked with Tab alone, from the top to where focus wraps: the first stop is the skip
// link, every stop is visible, named and shows the focus ring, and every visible control is
// reached (a radio group once, as browsers make it one stop). Sign-in and one form are done
// with the keyboard alone (a report; the notification settings). Every wait is on a condition with a deadline; no fixed sleeps.

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
const DRAIN = need("OUTFLOW_DRAIN_ID");
const SCHEDULE = need("OUTFLOW_SCHEDULE_ID");
const EXPORT = need("OUTFLOW_EXPORT_ID");
const CHROMIUM = process.env.OUTFLOW_CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.OUTFLOW_ARTIFACTS || ".";
// With OUTFLOW_SCREENSHOTS=1, the README's Notifications screenshot goes here.
const SHOTS = process.env.OUTFLOW_SCREENSHOTS === "1" ? need("OUTFLOW_SCREENSHOT_DIR") : null;
const S = "/settings/organization";
const DE = `${S}/data_export`;
const SHORT = 20_000;
/** More Tab stops than any page has: a walk that does not wrap by then is stuck. */
const MAX_STOPS = 400;

const PAGES = [
  ["Data export: Exports", `${DE}?tab=exports`],
  ["Data export: Drains", `${DE}?tab=drains`],
  ["Data export: Schedules", `${DE}?tab=schedules`],
  ["New export wizard", `${DE}/exports/new`],
  ["Export detail", `${DE}/exports/${EXPORT}`],
  ["Drain detail", `${DE}/drains/${DRAIN}`],
  ["Drain edit", `${DE}/drains/${DRAIN}/edit`],
  ["Add Drain wizard", `${DE}/drains/new`],
  ["Schedule", `${DE}/schedules/${SCHEDULE}`],
  ["Analytics", `${S}/analytics`],
  ["Reports", `${S}/reports`],
  ["Audit log", `${S}/audit_log`],
  ["API keys", `${S}/api_keys`],
  ["Privacy", `${S}/privacy`],
  ["Notifications", `${S}/notifications`],
  ["Admins", `${S}/admins`],
  ["Single sign-on", `${S}/admins/sso`],
];

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

/** What the focused element is, for the walk: a key, whether it is shown, its name, its ring. */
function focusedInfo() {
  return page.evaluate(async () => {
    // Let the browser finish moving focus (a date input takes it into its inner fields).
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    const text = (s) => (s || "").trim();
    const labels = Array.from(el.labels || []).map((l) => text(l.textContent)).join(" ");
    const by = text(el.getAttribute("aria-labelledby"))
      .split(/\s+/)
      .map((id) => text(document.getElementById(id)?.textContent))
      .join(" ");
    const name = text(el.getAttribute("aria-label")) || text(by) || labels || text(el.textContent) || text(el.getAttribute("title")) || text(el.value && el.type === "submit" ? el.value : "");
    const key = el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}[${Array.from(el.parentNode.children).indexOf(el)}]@${Math.round(r.top + window.scrollY)},${Math.round(r.left)}:${name.slice(0, 40)}`;
    return {
      key,
      tag: el.tagName.toLowerCase(),
      type: el.type || "",
      groupName: el.type === "radio" ? el.name : "",
      marker: el.dataset.kbWalk || "",
      shown: r.width > 0 && r.height > 0 && cs.visibility !== "hidden",
      name,
      ring: (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none",
      style: `outline ${cs.outlineStyle} ${cs.outlineWidth}, box-shadow ${cs.boxShadow}, focus-visible ${el.matches(":focus-visible")}, focus ${el.matches(":focus")}`,
    };
  });
}

/** Tabs through the page from the top until focus wraps; checks every stop and the reach. */
async function walk(where) {
  // Number the visible controls, so the walk can tell which it reached.
  const controls = await page.evaluate(() => {
    let n = 0;
    const out = [];
    for (const el of document.querySelectorAll("a[href], input, select, textarea, button, [tabindex]")) {
      if (el.type === "hidden" || el.disabled || el.tabIndex < 0) continue;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (!(r.width > 0 && r.height > 0) || cs.visibility === "hidden") continue;
      // Only form controls must be reached; links are checked as stops.
      if (!["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(el.tagName)) continue;
      el.dataset.kbWalk = String(++n);
      out.push({ n: String(n), radio: el.type === "radio" ? el.name : "", html: el.outerHTML.slice(0, 140) });
    }
    return out;
  });
  await page.evaluate(() => {
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  const reached = new Set();
  const radiosReached = new Set();
  const problems = [];
  let first = null;
  for (let i = 0; i < MAX_STOPS; i++) {
    await page.keyboard.press("Tab");
    const f = await focusedInfo();
    if (!f) break; // focus left the document: the walk is complete
    if (first === null) {
      first = f;
      check(f.name === "Skip to content", `${where}: the first Tab stop is "${f.name}", not the skip link`);
    } else if (f.key === first.key) {
      break; // wrapped around
    }
    if (!f.shown) problems.push(`focus on something not shown: ${f.key}`);
    if (!f.name) problems.push(`a Tab stop without a name: ${f.key}`);
    // A date input's focus sits in its inner fields, which Chromium highlights itself (the
    // host reports neither :focus nor its outline to scripts there), so its ring is not read.
    const dateInput = f.tag === "input" && ["date", "datetime-local"].includes(f.type);
    if (!f.ring && !dateInput) problems.push(`no visible focus ring: ${f.key} (${f.style})`);
    if (f.marker) reached.add(f.marker);
    if (f.groupName) radiosReached.add(f.groupName);
    if (i === MAX_STOPS - 1) problems.push(`focus did not wrap within ${MAX_STOPS} Tab presses`);
  }
  for (const c of controls) {
    const ok = reached.has(c.n) || (c.radio && radiosReached.has(c.radio));
    if (!ok) problems.push(`not reachable with Tab: ${c.html}`);
  }
  check(problems.length === 0, `${where}:\n  ${problems.join("\n  ")}`);
  return controls.length;
}

try {
  await step("sign in with the keyboard alone", async () => {
    await page.goto(`${APP}/signin`);
    await assertLabelled("sign-in");
    await page.keyboard.type(EMAIL);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === DE), page.keyboard.press("Enter")]);
  });

  for (const [name, path] of PAGES) {
    await step(`${name}: every control labelled, every one reached with Tab`, async () => {
      const r = await page.goto(`${APP}${path}`);
      check(r.status() === 200, `${path} answered ${r.status()}`);
      check(new URL(page.url()).pathname === path.split("?")[0], `landed on ${page.url()}`);
      await assertLabelled(name);
      const n = await walk(name);
      console.log(`     ${n} controls reached`);
    });
  }

  await step("the notification settings saved with the keyboard alone", async () => {
    await page.goto(`${APP}${S}/notifications`);
    await page.evaluate(() => document.activeElement?.blur());
    const tabUntil = async (what, pred) => {
      for (let i = 0; i < MAX_STOPS; i++) {
        await page.keyboard.press("Tab");
        if (await page.evaluate(pred)) return;
      }
      throw new Error(`Tab never reached ${what}`);
    };
    // The radio group is one Tab stop; the arrow keys choose within it.
    await tabUntil("the body format", () => document.activeElement?.name === "format");
    await page.keyboard.press("ArrowDown");
    check(await page.locator("#notify-format-slack").isChecked(), "ArrowDown chose the Slack body");
    await tabUntil("the schedule.failed box", () => document.activeElement?.id === "notify-event-schedule.failed");
    await page.keyboard.press("Space");
    check(!(await page.locator("#notify-event-schedule\\.failed").isChecked()), "Space unticked schedule.failed");
    await tabUntil("Save", () => document.activeElement?.tagName === "BUTTON" && document.activeElement.textContent.trim() === "Save");
    await Promise.all([page.waitForURL(/notice=saved/), page.keyboard.press("Enter")]);
    await page.getByRole("status").filter({ hasText: "Notification destination saved" }).waitFor();
    check((await page.locator("#notify-status").textContent()).includes("on"), "status on");
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, "notifications.png"), fullPage: true });
      console.log(`     screenshot ${join(SHOTS, "notifications.png")}`);
    }
  });

  await step("a form used with the keyboard alone: a report chosen, typed and sent with Enter", async () => {
    await page.goto(`${APP}${S}/reports`);
    await page.evaluate(() => document.activeElement?.blur());
    const tabTo = async (id) => {
      for (let i = 0; i < MAX_STOPS; i++) {
        await page.keyboard.press("Tab");
        if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
      }
      throw new Error(`Tab never reached #${id}`);
    };
    // A select changes with the arrow keys; text fields take typing; Enter sends the form.
    await tabTo("report-type");
    await page.keyboard.press("ArrowDown");
    const report = await page.locator("#report-type").inputValue();
    check(report !== "users", `ArrowDown changed the report: ${report}`);
    await tabTo("report-start");
    await page.keyboard.type("2026-03-01");
    await page.keyboard.press("Tab");
    await page.keyboard.type("2026-03-31");
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("report") === report && u.searchParams.get("start") === "2026-03-01"),
      page.keyboard.press("Enter"),
    ]);
    check((await page.locator("#report-type").inputValue()) === report, "the sent report is shown again");
  });

  check(consoleErrors.length === 0, `browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  console.log(`PASSED in ${Date.now() - started} ms`);
  await browser.close();
} catch (e) {
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    await page.screenshot({ path: join(ARTIFACTS, "keyboard-failure.png"), fullPage: true });
    writeFileSync(join(ARTIFACTS, "keyboard-failure.html"), await page.content());
  } catch (_) {
    /* the page may be gone */
  }
  console.error(`FAILED at step "${current}" on ${page.url()}`);
  console.error(e && e.stack ? e.stack : String(e));
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.join("\n  ")}`);
  await browser.close();
  process.exit(1);
}
