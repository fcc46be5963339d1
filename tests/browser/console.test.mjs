// console.test.mjs - the staff console in a real browser against the real
// server.  An admin's API key ingests a small stream of posts through
// POST /api/ingest (the shipped model labels them, the default rules open
// cases); then each role signs in and gets its pages: agents the cases inbox
// (open a case, reply, note, change state: the history shows each), analysts
// the reputation dashboard drawn by uPlot and label corrections, admins the
// rules, keys and staff, marketers the channel (a new post reaches a
// customer's web chat live) and advocates; a wrong password is refused.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import AxeBuilder from "@axe-core/playwright";
import { apiCall, customerSignIn, launch, loadPlaywright, newPerson, staffSignIn, staffToken, startServer } from "./harness.mjs";

let server, browser;
const errors = [];
const HOUR = 3600000;

// Posts of the last day: complaints (one about card misuse, which the default
// rules route to cards, legal and support as urgent), suggestions, praise.
const STREAM = [
  ["twitter", "mina_k", 1200, "Someone used my card without permission and took money from my account, I want it back now"],
  ["twitter", "arash88", 300, "The mobile app keeps crashing when I try to transfer money, terrible service!"],
  ["instagram", "happy_client", 5400, "Great support from the branch staff today, thank you so much!"],
  ["instagram", "happy_client", 5400, "Love the new app design, transfers are so fast now"],
  ["twitter", "sam_t", 800, "The call center menu is too long, please add an option to talk to a person"],
  ["twitter", "lena_v", 150, "Please add an option to talk to a person in the call center menu"],
  ["twitter", "omid", 40, "Fees for card to card transfers are too high"],
  ["instagram", "nika", 2300, "Thank you for the quick loan approval, excellent service"],
];

before(async () => {
  const pw = await loadPlaywright();
  server = await startServer();
  browser = await launch(pw);
  const admin = await staffToken(server, "admin");
  const key = await apiCall(server, "POST", "/api/listening/api-keys", { token: admin, body: { name: "browser test", sources: ["twitter", "instagram"] } });
  assert.equal(key.status, 201, JSON.stringify(key.data));
  const now = Date.now();
  const posts = STREAM.map(([source, author, followers, text], i) => ({
    source, external_id: `bt-${i}`, author, followers, text, posted_at_ms: now - (i % 6) * HOUR - 60000,
  }));
  const r = await apiCall(server, "POST", "/api/ingest", { headers: { "X-Api-Key": key.data.key }, body: { posts } });
  assert.equal(r.status, 200, JSON.stringify(r.data));
  assert.equal(r.data.accepted, STREAM.length, JSON.stringify(r.data));
  assert.ok(r.data.cases_opened >= 1, `cases opened: ${JSON.stringify(r.data)}`);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** A staff member signed in, in a language of their choice (remembered on the device, as the switch does). */
async function staffPage(username, lang = "en") {
  const page = await newPerson(browser, errors, `${username}/${lang}`, { viewport: { width: 1280, height: 900 } });
  await page.addInitScript((code) => localStorage.setItem("socialbank.lang", code), lang);
  await staffSignIn(server, page, username);
  await page.waitForSelector("#page:not([hidden])");
  return page;
}

const navTitles = (page) => page.locator("#nav a").allTextContents();

test("a wrong password is refused with the server's message", async () => {
  const page = await newPerson(browser, errors, "stranger");
  await page.goto(`${server.url}/`);
  await page.fill("#login-form input[name=username]", "agent");
  await page.fill("#login-form input[name=password]", "not-the-password");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#login-error:not([hidden])");
  assert.equal(await page.isHidden("#page"), true);
  await page.context().close();
});

test("an agent works a case in the inbox: open it, reply, note, acknowledge", async () => {
  const page = await staffPage("agent");
  assert.deepEqual(await navTitles(page), ["Cases"]);
  await page.waitForSelector('#page[data-page="inbox"] .case-list table.grid');
  // The card-misuse post opened an urgent case; the list shows the post's text.
  const row = page.locator(".case-list tr.clickable", { has: page.locator('.chip[data-value="urgent"]') }).first();
  assert.match(await row.textContent(), /without permission/);
  await row.click();
  await page.waitForSelector(".case-detail .post .text");
  assert.match(await page.textContent(".case-detail .post .text"), /without permission/);
  const reply = `We are sorry: our card team will call you today ${Date.now()}`;
  await page.fill('.case-detail form[data-action="replies"] textarea', reply);
  await page.click('.case-detail form[data-action="replies"] button');
  await page.locator(".case-detail .replies .text", { hasText: reply }).waitFor();
  await page.fill('.case-detail form[data-action="notes"] textarea', "customer called back, verifying the transactions");
  await page.click('.case-detail form[data-action="notes"] button');
  await page.locator(".case-detail .history .text", { hasText: "verifying the transactions" }).waitFor();
  await page.selectOption('.case-detail select[name="state"]', "acknowledged");
  await page.locator('.case-detail .page-head .chip', { hasText: "acknowledged" }).waitFor();
  await page.context().close();
});

test("an analyst sees the reputation dashboard draw a chart and corrects a label", async () => {
  const page = await staffPage("analyst");
  const titles = await navTitles(page);
  assert.ok(["Reputation", "Alerts", "Suggestions", "Advocates", "Posts"].every((t) => titles.includes(t)) && !titles.includes("Rules"), JSON.stringify(titles));
  await page.click('#nav a[data-page="dashboard"]');
  await page.waitForSelector("#chart-counts .uplot canvas");
  await page.waitForSelector("#chart-net .uplot canvas");
  const box = await page.locator("#chart-counts canvas").boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, `canvas size ${JSON.stringify(box)}`);
  // The legend names the sources that posted; the headline volume counts at least the stream.
  const legend = await page.locator("#chart-counts .u-legend").textContent();
  assert.ok(legend.includes("twitter") && legend.includes("instagram"), legend);
  const volume = Number(await page.locator("#figures .figure .value").first().textContent());
  assert.ok(volume >= STREAM.length, `volume ${volume}`);
  // Suggestions group the two "add an option" posts in one line.
  await page.click('#nav a[data-page="suggestions"]');
  await page.waitForSelector('#page[data-page="suggestions"] table.grid');
  assert.match(await page.textContent('#page[data-page="suggestions"] table.grid'), /call centre/);
  // Correct the sentiment of post 1 to neutral: the server keeps it with the analyst's name.
  await page.goto(`${server.url}/#posts?id=1`);
  await page.waitForSelector('#page[data-page="posts"] .post select[name="sentiment"]');
  await page.selectOption('#page .post select[name="sentiment"]', "neutral");
  await page.locator("#page table.grid td", { hasText: "analyst" }).waitFor();
  const analyst = await staffToken(server, "analyst");
  const post = await apiCall(server, "GET", "/api/listening/posts/1", { token: analyst });
  assert.equal(post.data.labels.sentiment, "neutral");
  assert.deepEqual(post.data.corrections.map((c) => [c.head, c.label, c.corrected_by]), [["sentiment", "neutral", "analyst"]]);
  await page.context().close();
});

test("an alert on a rumour burst reaches the analyst's page live", async () => {
  const page = await staffPage("analyst");
  await page.click('#nav a[data-page="alerts"]');
  await page.waitForSelector('#page[data-page="alerts"] p.empty');
  // Twelve posts in the last minutes repeat an insolvency rumour, in three languages.
  const admin = await staffToken(server, "admin");
  const key = await apiCall(server, "POST", "/api/listening/api-keys", { token: admin, body: { name: "rumour feed", sources: ["telegram", "twitter"] } });
  assert.equal(key.status, 201);
  const texts = ["They say the bank is going bankrupt, withdraw all my money now!",
                 "Кажуть, банк на межі банкрутства, знімайте гроші поки не пізно",
                 "می‌گویند بانک ورشکست شده، همه پولشان را بیرون بکشند!"];
  const now = Date.now();
  const posts = Array.from({ length: 12 }, (_, i) => ({
    source: i % 2 ? "telegram" : "twitter", external_id: `rumour-${i}`, author: `@echo_${i}`, followers: 500 + i,
    text: texts[i % 3], posted_at_ms: now - (12 - i) * 60000,
  }));
  const r = await apiCall(server, "POST", "/api/ingest", { headers: { "X-Api-Key": key.data.key }, body: { posts } });
  assert.equal(r.data.accepted, 12, JSON.stringify(r.data));
  // The maintenance tick (every 10 s) raises it; the page gets it over the WebSocket, no reload.
  const row = page.locator('#page[data-page="alerts"] table.grid tr[data-metric="risk:insolvency_rumour"]');
  await row.waitFor();
  assert.match(await row.textContent(), /insolvency rumour/);
  assert.equal(await row.locator("td").nth(2).textContent(), "12"); // observed in the last hour
  await page.locator(".toast.alert", { hasText: "insolvency_rumour" }).waitFor();
  await page.context().close();
});

test("an admin sees the staff list with every demo account", async () => {
  const page = await staffPage("admin");
  const titles = await navTitles(page);
  assert.ok(["Rules", "API keys", "Staff"].every((t) => titles.includes(t)), JSON.stringify(titles));
  await page.click('#nav a[data-page="staff"]');
  await page.waitForSelector('#page[data-page="staff"] table.grid');
  const names = await page.locator("#page table.grid td:nth-child(1)").allTextContents();
  for (const u of ["admin", "agent", "analyst", "marketer"]) assert.ok(names.includes(u), JSON.stringify(names));
  // The rules the server ships, and the key made for the ingest above.
  await page.click('#nav a[data-page="rules"]');
  await page.locator('#page[data-page="rules"] table.grid td bdi', { hasText: "card misuse" }).waitFor();
  await page.click('#nav a[data-page="keys"]');
  await page.locator('#page[data-page="keys"] table.grid td', { hasText: "browser test" }).waitFor();
  await page.context().close();
});

test("a marketer's channel post reaches a customer's web chat live", async () => {
  const customer = await newPerson(browser, errors, "reza");
  await customerSignIn(server, customer, "0919 111 2233", "+989191112233");
  await customer.click('#chat-list li[data-kind="channel"] button');
  await customer.waitForSelector("#channel-view:not([hidden]) li.post");
  const page = await staffPage("marketer");
  assert.deepEqual(await navTitles(page), ["Posts", "Reputation", "Suggestions", "Advocates", "Channel"]);
  await page.click('#nav a[data-page="channel"]');
  await page.waitForSelector('#page[data-page="channel"] textarea[name="text"]');
  const text = `New: split bills in groups <b>${Date.now()}</b>`;
  await page.fill('#page textarea[name="text"]', text);
  await page.click('#page form button[type="submit"]');
  await page.waitForSelector("#page .form-status.ok");
  await customer.locator("li.post .text", { hasText: text }).waitFor();
  assert.equal(await customer.locator("li.post b").count(), 0);
  await customer.context().close();
  await page.context().close();
});

/* ---- the console in Persian and Ukrainian ---- */

// Screenshots of every page, for people to look at: SB_SCREENSHOT_DIR or next to the web directory.
const SHOTS = process.env.SB_SCREENSHOT_DIR || join(process.env.SB_WEB_DIR || ".", "..", "screenshots", "console");
mkdirSync(SHOTS, { recursive: true });
const PERSIAN_DIGIT = /[۰-۹]/;
const JALALI_MONTH = /(فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند)/;

async function noHorizontalOverflow(page) {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `the page scrolls sideways: ${scroll} > ${client}`);
}

async function axeClean(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${what}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`), []);
}

async function openPage(page, id) {
  await page.click(`#nav a[data-page="${id}"]`);
  await page.waitForSelector(`#page[data-page="${id}"] .page-head`);
  await page.waitForLoadState("networkidle");
}

/** One new card-misuse case, ingested now (the live badge's cause). */
async function ingestCase(tag) {
  const admin = await staffToken(server, "admin");
  const key = await apiCall(server, "POST", "/api/listening/api-keys", { token: admin, body: { name: `live ${tag}`, sources: ["twitter"] } });
  const r = await apiCall(server, "POST", "/api/ingest", { headers: { "X-Api-Key": key.data.key }, body: { posts: [
    { source: "twitter", id: `live-${tag}`, author: `@live_${tag}`, followers: 10, time: Math.floor(Date.now() / 1000) - 30,
      text: "Someone used my card without permission and took money from my account, block it" }] } });
  assert.equal(r.data.cases_opened, 1, JSON.stringify(r.data));
}

async function agentsDay(lang) {
  const page = await staffPage("agent", lang);
  assert.equal(await page.getAttribute("html", "lang"), lang);
  assert.equal(await page.getAttribute("html", "dir"), lang === "fa" ? "rtl" : "ltr");
  await page.waitForSelector('#page[data-page="inbox"] .case-list table.grid');
  // Dates in the reader's calendar and digits.
  const firstDate = await page.locator(".case-list time").first().textContent();
  if (lang === "fa") {
    assert.match(firstDate, JALALI_MONTH, firstDate);
    assert.match(firstDate, /۱۴۰[۵-۶]/, firstDate);
    assert.doesNotMatch(firstDate, /[0-9]/, firstDate);
  } else {
    assert.match(firstDate, /(груд|лист|січ)/, firstDate);
  }
  // A new case arrives live: the badge counts it, a click shows it.
  await page.waitForSelector("#live:not([hidden]):not(.bad)"); // the WebSocket is open
  await ingestCase(lang);
  const badge = page.locator(".page-head .badge");
  await badge.waitFor();
  if (lang === "fa") assert.match(await badge.textContent(), PERSIAN_DIGIT);
  await badge.click();
  await page.locator(".case-list tr.clickable", { hasText: `live_${lang}` }).waitFor();
  await noHorizontalOverflow(page);
  await page.screenshot({ path: join(SHOTS, `inbox-list-${lang}.png`), fullPage: true });
  // Open it: the customer panel, assignment from the staff list, a canned reply, a note.
  await page.locator(".case-list tr.clickable", { hasText: `live_${lang}` }).click();
  await page.waitForSelector(".customer-panel h3");
  await page.selectOption('.case-detail form[data-action="assign"] select[name="agent"]', "agent");
  await page.click('.case-detail form[data-action="assign"] button');
  await page.locator(".case-detail .form-status.ok").waitFor();
  await page.selectOption('.case-detail form[data-action="replies"] select[name="canned"]', "dm");
  await page.click('.case-detail form[data-action="replies"] button');
  await page.locator(".case-detail .replies li").first().waitFor();
  assert.match(await page.locator(".case-detail .replies .text").first().textContent(), /live_/);
  await page.fill('.case-detail form[data-action="notes"] textarea', lang === "fa" ? "با مشتری تماس گرفتم" : "Зателефонувала клієнту");
  await page.click('.case-detail form[data-action="notes"] button');
  await page.locator(".case-detail .history .text", { hasText: lang === "fa" ? "تماس گرفتم" : "Зателефонувала" }).waitFor();
  await noHorizontalOverflow(page);
  await page.screenshot({ path: join(SHOTS, `inbox-case-${lang}.png`), fullPage: true });
  // Bulk: two cases moved to waiting at once, with per-case results.
  const boxes = page.locator('.case-list input[type="checkbox"]');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.selectOption('.bulk select[name="state"]', "waiting");
  await page.click('.bulk button[data-bulk="state"]');
  const bulkResult = page.locator(".bulk-status .form-status.ok");
  await bulkResult.waitFor();
  if (lang === "fa") assert.match(await bulkResult.textContent(), /۲/); // two changed, in Persian digits
  else assert.match(await bulkResult.textContent(), /2/);
  await axeClean(page, `inbox ${lang}`);
  await page.context().close();
}

test("an agent's day in Persian: right to left, Jalali dates, Persian digits, live cases, canned reply, bulk", async () => {
  await agentsDay("fa");
});

test("an agent's day in Ukrainian", async () => {
  await agentsDay("uk");
});

test("an analyst searches the stream, filters it and exports the CSV", async () => {
  const page = await staffPage("analyst", "uk");
  await openPage(page, "stream");
  await page.fill('#page form[role="search"] input[name="q"]', "permission");
  await page.click('#page form[role="search"] button[type="submit"]');
  await page.locator("#page .stream-list .text", { hasText: "without permission" }).first().waitFor();
  const rows = await page.locator("#page .stream-list tbody tr").count();
  assert.ok(rows >= 1);
  await page.fill('#page form[role="search"] input[name="q"]', "");
  await page.selectOption('#page form[role="search"] select[name="source"]', "instagram");
  await page.click('#page form[role="search"] button[type="submit"]');
  await page.locator("#page .stream-list .text", { hasText: "Great support" }).waitFor();
  assert.equal(await page.locator("#page .stream-list .text", { hasText: "without permission" }).count(), 0);
  const download = page.waitForEvent("download");
  await page.click('#page button[data-action="export"]');
  const file = await download;
  const csv = readFileSync(await file.path(), "utf8");
  assert.match(csv, /^id,posted_at,source,author,lang,sentiment,kind,topic,risks,competitors,text\r\n/);
  assert.ok(csv.includes("instagram") && !csv.includes("twitter,"), csv.slice(0, 400));
  await page.locator("#page .form-status.ok").waitFor();
  await noHorizontalOverflow(page);
  await axeClean(page, "stream uk");
  await page.context().close();
});

test("an admin's rule with a bad department is refused naming the field", async () => {
  const page = await staffPage("admin", "fa");
  await openPage(page, "rules");
  await page.fill('#page form[data-form="rule"] input[name="name"]', "قاعدهٔ آزمایشی");
  await page.fill('#page form[data-form="rule"] input[name="departments"]', "support, nowhere");
  await page.click('#page form[data-form="rule"] button[type="submit"]');
  const status = page.locator("#page .form-status.error");
  await status.waitFor();
  assert.match(await status.textContent(), /واحدها/); // the field, named in Persian
  assert.equal(await page.getAttribute('#page form[data-form="rule"] input[name="departments"]', "aria-invalid"), "true");
  await axeClean(page, "rules fa");
  await page.context().close();
});

test("an admin erases an author after typing the name again; the audit log shows it", async () => {
  const page = await staffPage("admin", "uk");
  await openPage(page, "privacy");
  await page.selectOption('#page form[data-form="erase"] select[name="source"]', "twitter");
  await page.fill('#page form[data-form="erase"] input[name="author"]', "omid");
  await page.click('#page form[data-form="erase"] button[type="submit"]');
  await page.waitForSelector("dialog[open]");
  await page.fill('dialog input[name="confirm"]', "someone else");
  await page.click('dialog button[value="erase"]');
  await page.locator("#page .form-status.error").waitFor(); // a mismatch erases nothing
  await page.click('#page form[data-form="erase"] button[type="submit"]');
  await page.fill('dialog input[name="confirm"]', "omid");
  await page.click('dialog button[value="erase"]');
  await page.locator("#page .form-status.ok").waitFor();
  assert.match(await page.locator("#page .form-status.ok").textContent(), /1/);
  await page.locator("#page table.grid td bdi", { hasText: "omid" }).first().waitFor();
  const admin = await staffToken(server, "admin");
  const audit = await apiCall(server, "GET", "/api/listening/audit?limit=5", { token: admin });
  assert.ok(audit.data.entries.some((e) => e.action === "erase" && e.author === "omid" && e.actor === "admin"), JSON.stringify(audit.data));
  await page.context().close();
});

test("an admin sets a department's hours typing Persian digits", async () => {
  const page = await staffPage("admin", "fa");
  await openPage(page, "departments");
  await page.selectOption('#page select[name="department"]', "cards");
  const start = page.locator('#page form[data-form="hours"] input[name="s6_0"]'); // Saturday, first period
  assert.equal(await start.inputValue(), "۰۸:۰۰");
  await start.fill("۰۹:۳۰");
  await page.click('#page form[data-form="hours"] button[type="submit"]');
  await page.locator("#page .form-status.ok").waitFor();
  const admin = await staffToken(server, "admin");
  const deps = await apiCall(server, "GET", "/api/listening/departments", { token: admin });
  const cards = deps.data.departments.find((d) => d.name === "cards");
  assert.ok(cards.hours.some((p) => p.weekday === 6 && p.start_minute === 570 && p.end_minute === 720), JSON.stringify(cards.hours));
  // An end before its start is refused before anything is sent.
  await page.locator('#page form[data-form="hours"] input[name="e6_0"]').fill("۰۷:۰۰");
  await page.click('#page form[data-form="hours"] button[type="submit"]');
  await page.locator("#page .form-status.error", { hasText: "شنبه" }).waitFor();
  await page.context().close();
});

test("every page in Persian and Ukrainian: screenshots, no sideways scrolling, axe finds nothing serious", async () => {
  for (const [user, lang] of [["admin", "fa"], ["admin", "uk"], ["analyst", "fa"]]) {
    const page = await staffPage(user, lang);
    const ids = await page.locator("#nav a").evaluateAll((as) => as.map((a) => a.dataset.page));
    for (const id of ids) {
      await openPage(page, id);
      await noHorizontalOverflow(page);
      await page.screenshot({ path: join(SHOTS, `${id}-${lang}${user === "admin" ? "" : "-" + user}.png`), fullPage: true });
      if (["inbox", "stream", "dashboard", "rules", "privacy", "departments", "suggestions", "alerts", "staff", "keys"].includes(id)) await axeClean(page, `${id} ${lang}`);
    }
    await page.context().close();
  }
});

test("no page threw", () => {
  assert.deepEqual(errors, []);
});
