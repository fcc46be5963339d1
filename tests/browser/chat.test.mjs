// chat.test.mjs - the customer web chat in a real browser against the real
// server: two customers sign in with one-time codes read from the server's
// log, a message typed by one arrives live in the other's page, receipts
// reach the sender, a socket that was down catches up through /changes,
// text that looks like HTML stays text, and a like on the bank's channel
// updates the count live.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiCall, customerSignIn, launch, loadPlaywright, newPerson, startServer } from "./harness.mjs";

let server, browser, ali, sara;
const errors = [];

before(async () => {
  const pw = await loadPlaywright();
  server = await startServer();
  browser = await launch(pw);
  // Two browser contexts: two people, no shared storage.
  // English pages (the Persian and Ukrainian journeys are customer.test.mjs).
  ali = await newPerson(browser, errors, "ali", { locale: "en-GB" });
  sara = await newPerson(browser, errors, "sara", { locale: "en-GB" });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function openGroup(page) {
  const item = page.locator('#chat-list li[data-kind="group"] button').first();
  await item.waitFor();
  await item.click();
  await page.waitForSelector("#chat-view:not([hidden])");
}

async function send(page, text) {
  await page.fill("#compose textarea", text);
  await page.click("#compose button[type=submit]");
}

const messageWithText = (page, text) => page.locator("#message-list li.msg .text", { hasText: text });

test("two customers sign in with one-time codes from the log", async () => {
  await customerSignIn(server, ali, "0912 123 4567", "+989121234567", { lang: "en" });
  await customerSignIn(server, sara, "09351234567", "+989351234567", { lang: "en" });
  assert.match(await ali.textContent("#whoami"), /@ali/);
  assert.match(await sara.textContent("#whoami"), /@sara/);
  // The live socket says hello.
  await ali.waitForFunction(() => document.getElementById("status").dataset.state === "live");
  await sara.waitForFunction(() => document.getElementById("status").dataset.state === "live");
});

test("a message sent by one arrives live in the other's open chat, with receipts back", async () => {
  await openGroup(ali);
  await openGroup(sara);
  const text = `hello from ali ${Date.now()}`;
  await send(ali, text);
  await messageWithText(ali, text).waitFor();
  // Sara's page never polls: only the WebSocket push can bring it.
  await messageWithText(sara, text).waitFor();
  const mine = ali.locator("#message-list li.msg.mine", { hasText: text });
  assert.equal(await mine.count(), 1);
  assert.equal(await messageWithText(sara, text).count(), 1, "exactly once");
  // Sara has the chat open, so she reads it; Ali's tick turns to "read" only
  // when all other members read it, so check Sara's receipt reached Ali's state.
  await ali.waitForFunction((t) => {
    const { state } = window.socialbankChat;
    const cs = state.chats.get(state.openId);
    const m = [...cs.messages.values()].find((x) => x.text === t);
    const saraId = [...cs.members.keys()].find((id) => id !== state.me.id && cs.members.get(id).read_seq >= m.seq);
    return saraId !== undefined;
  }, text);
});

test("typing shows in the other's chat", async () => {
  await ali.fill("#compose textarea", "");
  await ali.type("#compose textarea", "typ", { delay: 20 });
  await sara.waitForFunction(() => /typing/.test(document.getElementById("typing").textContent));
  await ali.fill("#compose textarea", "");
});

test("a socket that was down catches up through /changes, in order, exactly once", async () => {
  await sara.evaluate(() => window.socialbankChat.live.stop());
  await sara.waitForFunction(() => document.getElementById("status").dataset.state !== "live");
  const texts = [`missed one ${Date.now()}`, `missed two ${Date.now()}`];
  for (const t of texts) {
    await send(ali, t);
    await messageWithText(ali, t).waitFor();
  }
  await sara.waitForTimeout(300);
  assert.equal(await messageWithText(sara, texts[0]).count(), 0, "not pushed while the socket is down");
  await sara.evaluate(() => window.socialbankChat.live.start());
  await messageWithText(sara, texts[1]).waitFor();
  const all = await sara.locator("#message-list li.msg .text").allTextContents();
  const i0 = all.indexOf(texts[0]), i1 = all.indexOf(texts[1]);
  assert.ok(i0 >= 0 && i1 > i0, `both missed messages in order: ${JSON.stringify(all.slice(-4))}`);
  assert.equal(all.filter((t) => t === texts[0]).length, 1);
});

test("text that looks like HTML is shown as text and never runs", async () => {
  const evil = `<img src=x onerror="window.__xss=1"><b>bold</b> ${Date.now()}`;
  await send(ali, evil);
  await messageWithText(sara, evil).waitFor();
  assert.equal(await sara.locator("#message-list img").count(), 0);
  assert.equal(await sara.locator("#message-list b").count(), 0);
  assert.equal(await sara.evaluate(() => window.__xss), undefined);
});

test("an edit and a delete reach the other live, with a visible trace", async () => {
  const text = `typo hre ${Date.now()}`;
  await send(ali, text);
  const mine = ali.locator("#message-list li.msg.mine", { hasText: text });
  await mine.waitFor();
  await messageWithText(sara, text).waitFor();
  const fixed = text.replace("hre", "here");
  ali.once("dialog", (d) => d.accept(fixed));
  await mine.hover();
  await mine.locator('button.msg-action[title="Edit"]').click();
  const edited = sara.locator("#message-list li.msg", { hasText: fixed });
  await edited.locator(".meta", { hasText: "edited" }).waitFor();
  ali.once("dialog", (d) => d.accept());
  const mineFixed = ali.locator("#message-list li.msg.mine", { hasText: fixed });
  await mineFixed.hover();
  await mineFixed.locator('button.msg-action[title="Delete"]').click();
  await sara.locator("#message-list li.msg .deleted").last().waitFor();
  assert.equal(await sara.locator("#message-list li.msg", { hasText: fixed }).count(), 0);
});

test("amounts are integer minor units formatted with grouping", async () => {
  const out = await ali.evaluate(async () => {
    const { formatMinor, parseMinor } = await import("/lib.js");
    return [formatMinor(1200000, "IRR"), formatMinor(999, "IRR"), formatMinor(-1050, "UAH"), formatMinor(5, "USD"),
            parseMinor("1,200,000", "IRR"), parseMinor("10.5", "UAH"), parseMinor("1.5", "IRR"), parseMinor("0", "IRR")];
  });
  assert.deepEqual(out, ["1,200,000 IRR", "999 IRR", "-10.50 UAH", "0.05 USD", 1200000, 1050, null, null]);
});

test("a money request in the group: the card shows live, the payer pays, both see it paid", async () => {
  // Both are in the group chat (opened in the tests above).
  await openGroup(ali);
  await openGroup(sara);
  const saraId = await sara.evaluate(() => window.socialbankChat.state.me.id);
  await ali.click("#pay-box summary");
  await ali.selectOption("#pay-form select[name=op]", "request");
  await ali.selectOption("#pay-form select[name=member]", String(saraId));
  await ali.fill("#pay-form input[name=amount]", "1234567");
  await ali.fill("#pay-form input[name=note]", "lunch <i>on Friday</i>");
  await ali.click("#pay-form button[type=submit]");
  // The confirm step names the payer and the amount before anything is sent.
  await ali.waitForSelector("#confirm:not([hidden])");
  assert.match(await ali.textContent("#confirm-go"), /1,234,567 rials/);
  assert.match(await ali.textContent("#confirm-content"), /Sara Ahmadi/);
  await ali.click("#confirm-go");
  await ali.waitForSelector("#confirm", { state: "hidden" });
  const aliCard = ali.locator("#message-list .payment", { hasText: "lunch <i>on Friday</i>" }).last();
  await aliCard.waitFor();
  assert.equal(await aliCard.getAttribute("data-status"), "pending");
  // Sara's page gets it over the WebSocket, amount formatted from integer rials.
  const saraCard = sara.locator("#message-list .payment", { hasText: "lunch <i>on Friday</i>" }).last();
  await saraCard.waitFor();
  assert.equal(await saraCard.locator(".payment-amount").textContent(), "1,234,567 rials");
  assert.equal(await sara.locator("#message-list i").count(), 0);
  await saraCard.locator('button[data-action="pay"]').click();
  // The status moves to paid on both pages without a reload.
  await sara.waitForFunction(() => [...document.querySelectorAll("#message-list .payment")].some((c) => c.textContent.includes("lunch <i>on Friday</i>") && c.dataset.status === "paid"));
  await ali.waitForFunction(() => [...document.querySelectorAll("#message-list .payment")].some((c) => c.textContent.includes("lunch <i>on Friday</i>") && c.dataset.status === "paid"));
  assert.equal(await saraCard.locator('button[data-action="pay"]').count(), 0);
});

test("the bank's channel: the demo post, a like counted live, a comment", async () => {
  for (const p of [ali, sara]) {
    await p.click('#chat-list li[data-kind="channel"] button');
    await p.waitForSelector("#channel-view:not([hidden]) li.post");
  }
  const likesOf = (p) => p.locator("li.post .likes").first().textContent();
  const before = Number(await likesOf(sara));
  await ali.locator("li.post button.like").first().click();
  await sara.waitForFunction((n) => Number(document.querySelector("li.post .likes").textContent) === n + 1, before);
  const comment = `nice post ${Date.now()}`;
  const form = ali.locator("li.post form.comment-form").first();
  await form.locator("input").fill(comment);
  await form.locator("button").click();
  await sara.locator("li.post li.comment .text", { hasText: comment }).waitFor();
});

test("history pages back by seq: the newest page first, older ones on demand, in order", async () => {
  const token = await ali.evaluate(() => sessionStorage.getItem("socialbank.chat.token"));
  const chatId = await ali.evaluate(() => [...window.socialbankChat.state.chats.values()].find((c) => c.chat.kind === "group").chat.id);
  for (let i = 1; i <= 60; i++) {
    const r = await apiCall(server, "POST", `/api/chats/${chatId}/messages`, { token, body: { text: `page test ${String(i).padStart(2, "0")}` } });
    assert.equal(r.status, 201, JSON.stringify(r.data));
  }
  // A fresh load of Sara's page (the token survives in sessionStorage) shows the newest 50.
  await sara.reload();
  await openGroup(sara);
  await messageWithText(sara, "page test 60").waitFor();
  const pageTexts = async () => (await sara.locator("#message-list li.msg .text").allTextContents()).filter((t) => t.startsWith("page test"));
  assert.deepEqual(await pageTexts(), Array.from({ length: 50 }, (_, i) => `page test ${String(i + 11).padStart(2, "0")}`));
  await sara.click("#older");
  await messageWithText(sara, "page test 01").waitFor();
  assert.deepEqual(await pageTexts(), Array.from({ length: 60 }, (_, i) => `page test ${String(i + 1).padStart(2, "0")}`));
});

test("no page threw", () => {
  assert.deepEqual(errors, []);
});
