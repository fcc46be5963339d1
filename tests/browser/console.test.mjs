// console.test.mjs - the staff console in a real browser against the real
// server.  An admin's API key ingests a small stream of posts through
// POST /api/ingest (the shipped model labels them, the default rules open
// cases); then each role signs in and gets its pages: agents the cases inbox
// (open a case, reply, note, change state: the history shows each), analysts
// the reputation dashboard drawn by uPlot and label corrections, admins the
// rules, keys and staff, marketers the channel (a new post reaches a
// customer's web chat live) and advocates; a wrong password is refused.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
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

async function staffPage(username) {
  const page = await newPerson(browser, errors, username, { viewport: { width: 1280, height: 900 } });
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
  // The card-misuse post opened an urgent case for cards, legal and support.
  const row = page.locator(".case-list tr.clickable", { hasText: "urgent" }).first();
  assert.match(await row.textContent(), /cards, legal, support/);
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
  // The legend names the sources that posted, and the totals add up to the stream.
  const legend = await page.locator("#chart-counts .u-legend").textContent();
  assert.ok(legend.includes("twitter") && legend.includes("instagram"), legend);
  assert.match(await page.textContent("#page .charts p"), new RegExp(`twitter ${STREAM.filter((p) => p[0] === "twitter").length}`));
  // Suggestions group the two "add an option" posts in one line.
  await page.click('#nav a[data-page="suggestions"]');
  await page.waitForSelector('#page[data-page="suggestions"] table.grid');
  assert.match(await page.textContent('#page[data-page="suggestions"] table.grid'), /call_center/);
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
  const row = page.locator('#page[data-page="alerts"] table.grid tr', { hasText: "risk:insolvency_rumour" });
  await row.waitFor();
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
  const names = await page.locator("#page table.grid td:nth-child(2)").allTextContents();
  for (const u of ["admin", "agent", "analyst", "marketer"]) assert.ok(names.includes(u), JSON.stringify(names));
  // The rules the server ships, and the key made for the ingest above.
  await page.click('#nav a[data-page="rules"]');
  await page.locator('#page[data-page="rules"] table.grid td', { hasText: "card misuse" }).waitFor();
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
  assert.deepEqual(await navTitles(page), ["Reputation", "Suggestions", "Advocates", "Channel"]);
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

test("no page threw", () => {
  assert.deepEqual(errors, []);
});
