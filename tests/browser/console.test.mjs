// console.test.mjs - the staff console in a real browser against the real
// server: each role signs in and gets its pages (agents the cases inbox,
// analysts the reputation dashboard with a uPlot chart, admins the staff
// list, marketers the channel, whose new post a customer's web chat receives
// live); a wrong password is refused.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { customerSignIn, launch, loadPlaywright, staffSignIn, startServer } from "./harness.mjs";

let server, browser;
const errors = [];

before(async () => {
  const pw = await loadPlaywright();
  server = await startServer();
  browser = await launch(pw);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function staffPage(username) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on("pageerror", (e) => errors.push(`${username}: ${e.message}`));
  await staffSignIn(server, page, username);
  await page.waitForSelector("#page:not([hidden])");
  return page;
}

const navTitles = (page) => page.locator("#nav a").allTextContents();

test("a wrong password is refused with the server's message", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.fill("#login-form input[name=username]", "agent");
  await page.fill("#login-form input[name=password]", "not-the-password");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#login-error:not([hidden])");
  assert.equal(await page.isHidden("#page"), true);
  await page.context().close();
});

test("an agent gets the cases inbox and nothing for other roles", async () => {
  const page = await staffPage("agent");
  assert.deepEqual(await navTitles(page), ["Cases"]);
  await page.waitForSelector('#page[data-page="inbox"] h2:text("Cases")');
  // The list rendered from the server's answer: a table, or the empty line.
  await page.waitForSelector("#page .case-list table.grid, #page .case-list p.empty", { timeout: 10000 });
  assert.match(await page.textContent("#whoami"), /agent/);
  await page.context().close();
});

test("an analyst sees the reputation dashboard draw a chart", async () => {
  const page = await staffPage("analyst");
  const titles = await navTitles(page);
  assert.ok(titles.includes("Reputation") && !titles.includes("Cases") && !titles.includes("Rules"), JSON.stringify(titles));
  await page.waitForSelector('#page[data-page="dashboard"]');
  await page.waitForSelector("#chart-counts .uplot canvas", { timeout: 15000 });
  await page.waitForSelector("#chart-net .uplot canvas");
  const box = await page.locator("#chart-counts canvas").boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, `canvas size ${JSON.stringify(box)}`);
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
  await page.context().close();
});

test("a marketer's channel post reaches a customer's web chat live", async () => {
  const customer = await (await browser.newContext()).newPage();
  await customerSignIn(server, customer, "0919 111 2233", "+989191112233");
  await customer.click('#chat-list li[data-kind="channel"] button');
  await customer.waitForSelector("#channel-view:not([hidden]) li.post");
  const page = await staffPage("marketer");
  assert.deepEqual(await navTitles(page), ["Channel"]);
  const text = `New: split bills in groups <b>${Date.now()}</b>`;
  await page.fill('#page textarea[name="text"]', text);
  await page.click('#page form button[type="submit"]');
  await page.waitForSelector("#page .form-status.ok");
  await customer.locator("li.post .text", { hasText: text }).waitFor({ timeout: 10000 });
  assert.equal(await customer.locator("li.post b").count(), 0);
  await customer.context().close();
  await page.context().close();
});

test("no page threw", () => {
  assert.deepEqual(errors, []);
});
