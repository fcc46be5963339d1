// customer.test.mjs - the customer app as Persian and Ukrainian speakers use
// it, on a 360 px phone: signed out nothing of the app shows; in fa the page
// is right to left with Persian digits and Jalali dates, and no English word
// leaks outside names and user text; names come from the server (a 1:1 chat
// after a reload, members, requests); amounts typed in Persian digits are
// accepted; every payment passes a confirm step naming the payee; bills and
// top-ups stay out of the group; receipts carry their reference; the wallet
// lists them; the phone book lookup reveals only whom it may; keyboard
// buttons are presses.  axe finds no serious or critical violation on any
// screen, and every screen is written as a PNG (SB_SCREENSHOT_DIR) in fa and uk.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { apiCall, customerSignIn, launch, loadPlaywright, newPerson, staffToken, startServer } from "./harness.mjs";

let server, browser, AxeBuilder;
let ali, sara, olena;
const errors = [];
const shots = process.env.SB_SCREENSHOT_DIR || join(process.env.SB_WEB_DIR || ".", "..", "screenshots");
const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, hasTouch: true };
const PERSIAN_DIGIT = /[\u06F0-\u06F9]/;
const ASCII_DIGIT = /[0-9]/;
const toPersian = (s) => String(s).replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));

before(async () => {
  const pw = await loadPlaywright();
  try {
    ({ default: AxeBuilder } = await import("@axe-core/playwright"));
  } catch (e) {
    throw new Error(`@axe-core/playwright is not installed (scripts/deps.sh runs npm install): ${e.message}`);
  }
  mkdirSync(shots, { recursive: true });
  server = await startServer();
  browser = await launch(pw);
  ali = await newPerson(browser, errors, "ali", { ...PHONE, locale: "fa-IR", timezoneId: "Asia/Tehran" });
  sara = await newPerson(browser, errors, "sara", { ...PHONE, locale: "fa-IR", timezoneId: "Asia/Tehran" });
  olena = await newPerson(browser, errors, "olena", { ...PHONE, locale: "uk-UA", timezoneId: "Europe/Kyiv" });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/* The tests share three people's pages.  A test that fails with a confirm or
 * receipt sheet open would leave it covering the tabs, and every later click
 * would time out: each test starts with no sheet open. */
beforeEach(async () => {
  for (const page of [ali, sara, olena]) {
    if (!page || page.isClosed()) continue;
    if (await page.isVisible("#receipt-view")) await page.click("#receipt-close");
    if (await page.isVisible("#confirm")) await page.click("#confirm-cancel");
  }
});

/** axe on the page as it is: no serious or critical violation. */
async function axe(page, screen) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`), []);
}

/** Nothing wider than the phone: no horizontal scrolling. */
async function noOverflow(page, screen) {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `${screen}: the page is ${scroll} px wide on a ${client} px screen`);
}

/** In fa, every visible word of the interface is Persian: Latin letters only in names, user text and data. */
async function noLatinInterface(page, screen) {
  const leaks = await page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!/[A-Za-z]{2,}/.test(n.nodeValue)) continue;
      if (!el || !el.checkVisibility || !el.checkVisibility()) continue;
      if (el.closest("bdi, [dir=auto], [dir=ltr], [translate=no], script, style, option:not(:checked)")) continue;
      out.push(n.nodeValue.trim().slice(0, 60));
    }
    return out;
  });
  assert.deepEqual(leaks, [], `${screen}: English in the Persian interface`);
}

/** Check a screen: axe, width, (fa) no English; then write its screenshot. */
async function screen(page, lang, name) {
  await page.evaluate(() => document.fonts.ready);
  await noOverflow(page, `${lang}/${name}`);
  if (lang === "fa") await noLatinInterface(page, `${lang}/${name}`);
  await axe(page, `${lang}/${name}`);
  await page.screenshot({ path: join(shots, `${lang}-${name}.png`), fullPage: false });
}

async function rtlAsserted(page) {
  const facts = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    direction: getComputedStyle(document.body).direction,
    align: getComputedStyle(document.querySelector("#tabs button")).textAlign,
  }));
  assert.equal(facts.lang, "fa");
  assert.equal(facts.dir, "rtl");
  assert.equal(facts.direction, "rtl");
}

const tokenOf = (page) => page.evaluate(() => sessionStorage.getItem("socialbank.chat.token"));

async function openChatNamed(page, name) {
  // On a phone the list and the chat take turns: go back to the list first.
  if (await page.isVisible("#back")) await page.click("#back");
  const item = page.locator("#chat-list li button", { hasText: name }).first();
  await item.waitFor();
  await item.click();
  await page.waitForSelector("#chat-view:not([hidden])");
}

/** Confirm, and fail with the refusal's sentence if the server refused. */
async function confirmed(page) {
  await page.click("#confirm-go");
  await page.waitForFunction(() => document.getElementById("confirm").hidden || !document.getElementById("confirm-error").hidden);
  if (!(await page.evaluate(() => document.getElementById("confirm").hidden))) assert.fail(`refused: ${await page.textContent("#confirm-error")}`);
}

async function pay(page, fields) {
  if (!(await page.locator("#pay-box").evaluate((d) => d.open))) await page.click("#pay-box summary");
  await page.selectOption("#pay-form select[name=op]", fields.op);
  if (fields.member) await page.selectOption("#pay-form select[name=member]", String(fields.member));
  for (const name of ["amount", "note", "bill_id", "payment_id", "mobile"]) if (fields[name] !== undefined) await page.fill(`#pay-form input[name=${name}]`, fields[name]);
  await page.click("#pay-form button[type=submit]");
  await page.waitForSelector("#confirm:not([hidden])");
}

test("signed out, only the sign-in form shows, right to left in Persian", async () => {
  await ali.goto(`${server.url}/chat.html`);
  await ali.waitForSelector("#signin:not([hidden])");
  assert.equal(await ali.isVisible("#app"), false);
  assert.equal(await ali.isVisible("#find-form"), false);
  assert.equal(await ali.isVisible("#pane-empty"), false);
  assert.equal(await ali.evaluate(() => document.documentElement.dir), "rtl");
  assert.equal(await ali.textContent("#signin h2"), "ورود با شمارهٔ موبایل");
  await screen(ali, "fa", "signin");
});

test("fa: sign in with Persian digits; RTL; names from the server survive a reload", async () => {
  await customerSignIn(server, ali, "۰۹۱۲ ۱۲۳ ۴۵۶۷", "+989121234567");
  await customerSignIn(server, sara, "۰۹۳۵۱۲۳۴۵۶۷", "+989351234567");
  await rtlAsserted(ali);
  await ali.waitForFunction(() => document.getElementById("status").dataset.state === "live");
  await screen(ali, "fa", "chats");
  // Sara is discoverable by @username (chosen at sign-up in the demo).
  await ali.fill("#find-form input[name=query]", "@sara");
  await ali.click("#find-form button[type=submit]");
  await ali.waitForSelector("#chat-view:not([hidden])");
  await ali.locator("#chat-title", { hasText: "Sara Ahmadi" }).waitFor();
  // After a reload the page has forgotten everything but the token: the name comes from the API.
  await ali.evaluate(() => sessionStorage.removeItem("socialbank.chat.names"));
  await ali.reload();
  await ali.waitForSelector("#app:not([hidden])");
  const direct = ali.locator('#chat-list li[data-kind="direct"] .chat-name');
  await direct.first().waitFor();
  assert.equal(await direct.first().textContent(), "Sara Ahmadi");
  await sara.reload();
  await sara.waitForSelector("#app:not([hidden])");
  await sara.locator('#chat-list li[data-kind="direct"] .chat-name', { hasText: "Ali Rezaei" }).waitFor();
});

test("fa: money to Sara typed in Persian digits, confirmed with her name, amount in Persian digits", async () => {
  await openChatNamed(ali, "Sara Ahmadi");
  await screen(ali, "fa", "chat");
  await pay(ali, { op: "send", amount: "۵۰۰۰۰", note: "ناهار" });
  const go = await ali.textContent("#confirm-go");
  assert.match(go, /Sara Ahmadi/);
  assert.match(go, /۵۰٬۰۰۰ ریال/);
  await screen(ali, "fa", "confirm");
  await confirmed(ali);
  const card = ali.locator("#message-list .payment", { hasText: "ناهار" }).last();
  await card.waitFor();
  assert.equal(await card.getAttribute("data-status"), "paid");
  const amount = await card.locator(".payment-amount").textContent();
  assert.match(amount, PERSIAN_DIGIT);
  assert.doesNotMatch(amount, ASCII_DIGIT);
  // Sara's card names the payee: "به شما" ("to you"), not a number.
  const saraCard = sara.locator("#message-list .payment", { hasText: "ناهار" }).last();
  await openChatNamed(sara, "Ali Rezaei");
  await saraCard.waitFor();
  assert.match(await saraCard.textContent(), /شما/);
});

test("fa: a request in the group reads who asks whom; the payer pays after a confirm", async () => {
  await openChatNamed(ali, "Friday lunch");
  await openChatNamed(sara, "Friday lunch");
  const saraId = await sara.evaluate(() => window.socialbankChat.state.me.id);
  await pay(ali, { op: "request", member: saraId, amount: "۱۲۰۰۰۰", note: "پیتزا" });
  assert.match(await ali.textContent("#confirm-content"), /Sara Ahmadi/);
  await ali.click("#confirm-go");
  const saraCard = sara.locator("#message-list .payment", { hasText: "پیتزا" }).last();
  await saraCard.waitFor();
  const text = await saraCard.textContent();
  assert.match(text, /Ali Rezaei/);
  assert.match(text, /از شما درخواست پرداخت دارد/);
  await screen(sara, "fa", "group-request");
  await saraCard.locator('button[data-action="pay"]').click();
  await sara.waitForFunction(() => [...document.querySelectorAll("#message-list .payment")].some((c) => c.textContent.includes("پیتزا") && c.dataset.status === "paid"));
});

test("fa: a bill and a top-up from the group stay private, with a receipt and its reference", async () => {
  const before = await sara.locator("#message-list li.msg").count();
  await pay(ali, { op: "bill", bill_id: toPersian("2050327604613"), payment_id: toPersian("1070189") });
  await ali.click("#confirm-go");
  await ali.waitForSelector("#receipt-view:not([hidden])");
  const reference = (await ali.textContent("#receipt-content .reference")).trim();
  assert.ok(reference.length > 0, "the receipt shows its reference");
  await screen(ali, "fa", "receipt");
  await ali.click("#receipt-close");
  await pay(ali, { op: "topup", mobile: "۰۹۱۲ ۱۲۳ ۴۵۶۷", amount: "۱۰۰۰۰۰" });
  await ali.click("#confirm-go");
  await ali.waitForSelector("#receipt-view:not([hidden])");
  await ali.click("#receipt-close");
  // Nothing reached the group: Sara's view of it has no new message.
  await sara.waitForTimeout(300);
  assert.equal(await sara.locator("#message-list li.msg").count(), before);
  // A ten-digit "0..." number from an Iranian customer is a typo, said so before anything is sent.
  if (!(await ali.locator("#pay-box").evaluate((d) => d.open))) await ali.click("#pay-box summary");
  await ali.selectOption("#pay-form select[name=op]", "topup");
  await ali.fill("#pay-form input[name=mobile]", "0501234567");
  await ali.fill("#pay-form input[name=amount]", "10000");
  await ali.click("#pay-form button[type=submit]");
  assert.match(await ali.textContent("#pay-result"), /اوکراینی/);
  assert.equal(await ali.isVisible("#confirm"), false);
});

test("fa: the wallet lists the receipts with Jalali dates and Persian digits; pay @sara through a quote", async () => {
  await ali.click('#tabs button[data-tab="wallet"]');
  await ali.locator("#history li").first().waitFor();
  const balance = await ali.textContent("#balance");
  assert.match(balance, PERSIAN_DIGIT);
  assert.doesNotMatch(balance, ASCII_DIGIT);
  // Read right to left, the number comes first and ریال after it: the word is on the number's left.
  const [numberLeft, unitLeft] = await ali.evaluate(() => {
    const node = document.querySelector("#balance .amount").firstChild;
    const at = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect().left; };
    return [at(0), at(node.nodeValue.indexOf("ریال"))];
  });
  assert.ok(unitLeft < numberLeft, `ریال (${unitLeft}) must be left of the number (${numberLeft})`);
  const when = await ali.locator("#history li time").first().textContent();
  assert.match(when, /(فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) ۱۴۰[۰-۹]/, `Jalali date: ${when}`);
  assert.doesNotMatch(when, ASCII_DIGIT);
  const kinds = await ali.locator("#history li").evaluateAll((lis) => lis.map((li) => li.dataset.kind));
  for (const k of ["bill", "topup", "transfer"]) assert.ok(kinds.includes(k), `history has a ${k}`);
  await ali.selectOption("#history-filter", "bill");
  assert.deepEqual([...new Set(await ali.locator("#history li").evaluateAll((lis) => lis.map((li) => li.dataset.kind)))], ["bill"]);
  await ali.selectOption("#history-filter", "");
  await screen(ali, "fa", "wallet");
  await ali.click("#pay-someone summary");
  await ali.fill("#alias-pay-form input[name=alias]", "@sara");
  await ali.fill("#alias-pay-form input[name=amount]", "۲۵٬۰۰۰");
  await ali.click("#alias-pay-form button[type=submit]");
  await ali.waitForSelector("#confirm:not([hidden])");
  assert.match(await ali.textContent("#confirm-content .payee"), /Sara Ahmadi/);
  await ali.click("#confirm-go");
  await ali.waitForSelector("#receipt-view:not([hidden])");
  assert.ok((await ali.textContent("#receipt-content .reference")).trim().length > 0);
  await ali.click("#receipt-close");
  // The statement downloads as CSV with a header and one line per receipt shown.
  const [download] = await Promise.all([ali.waitForEvent("download"), ali.click("#export")]);
  const { readFileSync } = await import("node:fs");
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.trim().split("\r\n");
  const all = await apiCall(server, "GET", "/api/receipts?after=0", { token: await tokenOf(ali) });
  assert.equal(lines.length, 1 + all.data.receipts.length);
  assert.match(lines[0], /تاریخ/);
});

test("fa: profile and phone book lookup: only the allowed are found, hidden and unknown alike", async () => {
  await ali.click('#tabs button[data-tab="profile"]');
  await ali.waitForSelector("#profile-form");
  assert.equal(await ali.inputValue("#profile-form input[name=display_name]"), "Ali Rezaei");
  await screen(ali, "fa", "profile");
  // Sara: an existing contact (a 1:1 chat); Reza: hidden by phone, no 1:1 chat; an unknown number.
  await ali.fill("#contacts-form textarea", "۰۹۳۵ ۱۲۳ ۴۵۶۷\n09191112233\n0912 999 8877\nnot a number");
  await ali.click("#contacts-form button[type=submit]");
  await ali.locator("#contacts-found li").first().waitFor();
  const names = await ali.locator("#contacts-found li .name").allTextContents();
  assert.deepEqual(names, ["Sara Ahmadi"]);
  assert.match(await ali.textContent("#contacts-status"), /۱ نفر پیدا شد/);
  // Make Ali findable by phone: Olena can then find him by number.
  await ali.check("#profile-form input[name=by_phone]");
  await ali.click("#profile-form button[type=submit]");
  await ali.waitForSelector("#profile-status.ok");
  const me = await apiCall(server, "GET", "/api/me", { token: await tokenOf(ali) });
  assert.deepEqual(me.data.discoverable, { by_phone: true, by_username: true });
});

test("keyboard buttons are presses that reach the bot, not text messages", async () => {
  const admin = await staffToken(server, "admin");
  const bot = await apiCall(server, "POST", "/api/admin/bots", { token: admin, body: { username: "weatherbot" } });
  assert.equal(bot.status, 201);
  const token = await tokenOf(ali);
  const chat = await apiCall(server, "POST", "/api/chats/direct", { token, body: { user_id: bot.data.bot.id } });
  assert.ok(chat.status === 201 || chat.status === 200);
  const botAuth = { Authorization: `Bot ${bot.data.token}` };
  const sent = await apiCall(server, "POST", `/api/bot/chats/${chat.data.id}/messages`,
    { headers: botAuth, body: { text: "کدام شهر؟", keyboard: { buttons: [[{ text: "تهران", data: "city:thr" }]] } } });
  assert.equal(sent.status, 201);
  await ali.click('#tabs button[data-tab="chats"]');
  if (await ali.isVisible("#back")) await ali.click("#back");
  await ali.locator(`#chat-list li[data-chat-id="${chat.data.id}"] button`).click();
  const button = ali.locator("#message-list .keyboard button.kb", { hasText: "تهران" });
  await button.click();
  await ali.locator("#message-list .keyboard button.kb.pressed").waitFor();
  const updates = await apiCall(server, "GET", "/api/bot/updates?after=0", { headers: botAuth });
  const events = updates.data.updates.map((u) => u.event);
  assert.ok(events.some((e) => e.type === "bot.callback" && e.data === "city:thr"), JSON.stringify(events));
  assert.ok(!events.some((e) => e.type === "message.new" && e.message && e.message.text === "تهران"), "the press was not sent as text");
});

test("uk: Olena's app in Ukrainian: left to right, Ukrainian dates and formats, every screen", async () => {
  await olena.goto(`${server.url}/chat.html`);
  await olena.waitForSelector("#signin:not([hidden])");
  assert.equal(await olena.evaluate(() => document.documentElement.lang), "uk");
  await screen(olena, "uk", "signin");
  await customerSignIn(server, olena, "050 123 4567", "+380501234567");
  assert.equal(await olena.evaluate(() => document.documentElement.dir), "ltr");
  assert.equal(await olena.textContent('#tabs button[data-tab="wallet"]'), "Гаманець");
  await screen(olena, "uk", "chats");
  // Ali is now discoverable by phone: Olena finds him by number.
  await olena.fill("#find-form input[name=query]", "+98 912 123 4567");
  await olena.click("#find-form button[type=submit]");
  await olena.waitForSelector("#chat-view:not([hidden])");
  await olena.locator("#chat-title", { hasText: "Ali Rezaei" }).waitFor();
  await screen(olena, "uk", "chat");
  await pay(olena, { op: "send", amount: "1 500 000" });
  assert.match(await olena.textContent("#confirm-go"), /Сплатити 1\s500\s000 ріалів для Ali Rezaei/);
  await screen(olena, "uk", "confirm");
  // Her wallet is empty: the refusal says why, in Ukrainian, and nothing moves.
  await olena.click("#confirm-go");
  await olena.waitForSelector("#confirm-error:not([hidden])");
  assert.match(await olena.textContent("#confirm-error"), /Недостатньо коштів у гаманці/);
  await screen(olena, "uk", "refused");
  await olena.click("#confirm-cancel");
  const admin = await staffToken(server, "admin");
  const me = await apiCall(server, "GET", "/api/me", { token: await tokenOf(olena) });
  const dep = await apiCall(server, "POST", "/api/admin/deposits", { token: admin, body: { user_id: me.data.id, amount_minor: 5000000, idempotency_key: "olena-1" } });
  assert.equal(dep.status, 201);
  await pay(olena, { op: "send", amount: "1 500 000" });
  await confirmed(olena);
  await olena.click('#tabs button[data-tab="wallet"]');
  await olena.locator("#history li").first().waitFor();
  const when = await olena.locator("#history li time").first().textContent();
  assert.match(when, /(січ|лют|бер|квіт|трав|черв|лип|серп|вер|жовт|лист|груд)\.? 20\d\d/, `Ukrainian date: ${when}`);
  await screen(olena, "uk", "wallet");
  await olena.locator("#history li button").first().click();
  await olena.waitForSelector("#receipt-view:not([hidden])");
  assert.ok((await olena.textContent("#receipt-content .reference")).trim().length > 0);
  await screen(olena, "uk", "receipt");
  await olena.click("#receipt-close");
  await olena.click('#tabs button[data-tab="profile"]');
  await screen(olena, "uk", "profile");
});

test("ru and en: the essentials switch language in place", async () => {
  await olena.selectOption("#lang", "ru");
  await olena.waitForFunction(() => document.documentElement.lang === "ru");
  assert.equal(await olena.textContent('#tabs button[data-tab="wallet"]'), "Кошелёк");
  await olena.click('#tabs button[data-tab="chats"]');
  await screen(olena, "ru", "chats");
  await olena.selectOption("#lang", "en");
  await olena.waitForFunction(() => document.documentElement.lang === "en");
  assert.equal(await olena.textContent('#tabs button[data-tab="wallet"]'), "Wallet");
  await screen(olena, "en", "chats");
  // The choice is the profile's: it follows her to the next sign-in.
  const me = await apiCall(server, "GET", "/api/me", { token: await tokenOf(olena) });
  assert.equal(me.data.language, "en");
});

test("the app is installable: manifest, icons and a service worker that caches the shell", async () => {
  const manifest = await apiCall(server, "GET", "/manifest.webmanifest");
  assert.equal(manifest.status, 200);
  assert.equal(manifest.data.start_url, "/chat.html");
  assert.ok(manifest.data.icons.some((i) => i.sizes === "512x512"));
  const cached = await ali.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const keys = await caches.keys();
    const cache = await caches.open(keys[0]);
    return { active: Boolean(reg.active), hasShell: Boolean(await cache.match("/chat.html")), hasCatalog: Boolean(await cache.match("/i18n/fa.json")) };
  });
  assert.deepEqual(cached, { active: true, hasShell: true, hasCatalog: true });
});

test("no page threw", () => {
  assert.deepEqual(errors, []);
});
