// chat.js - the customer web chat: sign in by phone and one-time code, the
// chat list, a chat's history (paged back by seq), sending, live events over
// /api/ws with catch-up through /changes after every (re)connect, receipts,
// typing, payment messages with live status, and the bank's channel (posts,
// likes, comments).  Every text from the server goes into the page as a text
// node (lib.js's h()), never as HTML.

import { Api, Live, clientId, fill, h } from "./lib.js";
import { bankCurrency, bdi, bdiMoney, currentLang, digitsOnly, localDigits, fmtClock, fmtDate, fmtMoney, fmtRelative, fmtToman, initI18n, localize, parseMoney, setLang, t, tError, tn, tNodes } from "./i18n/i18n.js";
import { readPhone } from "./phone.js";
import { initProfile, showProfile } from "./profile.js";
import { confirmStep, facts } from "./sheet.js";
import { counterpartyName, drawHistory, initWallet, money, openReceipt, showWallet } from "./wallet.js";

const api = new Api("socialbank.chat.token");
const $ = (id) => document.getElementById(id);

const PAGE = 50;          // messages per history page
const TYPING_SEND_MS = 3000; // at most one typing call per this interval
const TYPING_SHOW_MS = 5000; // how long "typing…" stays without a new event

const state = {
  me: null,
  chats: new Map(),   // chat id -> ChatState
  chatsAfter: 0,      // paging cursor of GET /api/chats
  chatsMore: false,
  openId: null,       // the chat shown
  channelId: null,    // the bank's channel's chat id once subscribed
  names: new Map(),   // user id -> display name (people found by phone/@username)
  typing: new Map(),  // user id -> timer, in the open chat
  lastTypingSent: 0,
  live: null,
};

/** Everything known of one chat. */
function chatState(chat) {
  let cs = state.chats.get(chat.id);
  if (!cs) {
    cs = { chat, messages: new Map(), oldest: null, olderMore: false, lastRev: 0, loaded: false, members: new Map() };
    state.chats.set(chat.id, cs);
  } else {
    cs.chat = { ...cs.chat, ...chat };
  }
  return cs;
}

function loadNames() {
  try {
    const saved = JSON.parse(sessionStorage.getItem("socialbank.chat.names") || "{}");
    for (const [id, name] of Object.entries(saved)) state.names.set(Number(id), String(name));
  } catch { /* a bad cache is no cache */ }
}
function rememberName(id, name) {
  state.names.set(id, name);
  sessionStorage.setItem("socialbank.chat.names", JSON.stringify(Object.fromEntries(state.names)));
}
function nameOf(userId) {
  if (userId === null || userId === undefined || userId === 0) return t("chat.name.bank");
  if (state.me && userId === state.me.id) return t("chat.name.you");
  return state.names.get(userId) || t("chat.name.unknown");
}

function chatTitle(cs) {
  const c = cs.chat;
  if (c.kind === "channel") return t("chat.name.channel");
  if (c.kind === "official") return t("chat.name.bank");
  if (c.title) return c.title;
  if (c.peer && c.peer.display_name) return c.peer.display_name;
  for (const uid of cs.members.keys()) if (!state.me || uid !== state.me.id) return nameOf(uid);
  return t("chat.name.unknown");
}

/* ---------------------------------------------------------------- sign-in */

function showSignin() {
  $("signin").hidden = false;
  $("app").hidden = true;
  $("tabs").hidden = true;
  $("wallet-view").hidden = true;
  $("profile-view").hidden = true;
  $("logout").hidden = true;
  $("whoami").hidden = true;
  setStatus("signed_out");
}

function signinError(text) {
  const el = $("signin-error");
  el.textContent = text || "";
  el.hidden = !text;
}

let pendingPhone = null;

$("phone-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  signinError("");
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const r = await api.post("/api/auth/otp/request", { phone: form.elements.phone.value.trim() });
    if (r.status === 202) {
      pendingPhone = r.data.phone;
      $("code-sent").replaceChildren(...tNodes("signin.code_sent", { phone: bdi(r.data.phone, { dir: "ltr" }) }));
      form.hidden = true;
      $("code-form").hidden = false;
      $("code-form").elements.code.focus();
    } else {
      signinError(tError(r));
    }
  } catch {
    signinError(tError(null));
  } finally {
    button.disabled = false;
  }
});

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  signinError("");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const r = await api.post("/api/auth/otp/verify", { phone: pendingPhone, code: digitsOnly(form.elements.code.value) });
    if (r.status === 200 && r.data && r.data.token) {
      api.token = r.data.token;
      form.reset();
      form.hidden = true;
      $("phone-form").hidden = false;
      await start(r.data.user, { created: r.data.created === true });
    } else {
      signinError(tError(r));
    }
  } catch {
    signinError(tError(null));
  } finally {
    button.disabled = false;
  }
});

$("code-back").addEventListener("click", () => {
  $("code-form").hidden = true;
  $("phone-form").hidden = false;
  signinError("");
});

$("logout").addEventListener("click", async () => {
  await api.post("/api/auth/logout").catch(() => {});
  api.token = null;
  if (state.live) state.live.stop();
  state.chats.clear();
  state.openId = null;
  showSignin();
});

/* ------------------------------------------------------------------ start */

async function start(user, { created = false } = {}) {
  state.me = user;
  if (user.role !== "customer") {
    api.token = null;
    signinError(t("signin.staff"));
    return showSignin();
  }
  $("signin").hidden = true;
  $("tabs").hidden = false;
  // A new customer is asked first how they want to be named and found.
  showTab(created ? "profile" : "chats", { welcome: created });
  $("logout").hidden = false;
  $("whoami").hidden = false;
  drawWhoami();
  loadNames();
  await subscribeChannel();
  await loadChats(true);
  if (state.channelId && !state.chats.has(state.channelId)) {
    const r = await api.get(`/api/chats/${state.channelId}`);
    if (r.status === 200) chatState(r.data);
    renderChatList();
  }
  state.live = new Live(api, { onEvent, onState: onLiveState });
  state.live.start();
  window.socialbankChat = { state, live: state.live }; // for tests and the curious
}

/* ------------------------------------------------------------------- tabs */

const TABS = { chats: "app", wallet: "wallet-view", profile: "profile-view" };
let currentTab = "chats";

function showTab(name, { welcome = false } = {}) {
  currentTab = name;
  for (const [tab, view] of Object.entries(TABS)) $(view).hidden = tab !== name;
  for (const b of $("tabs").querySelectorAll("button[data-tab]")) {
    if (b.dataset.tab === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (name === "wallet") showWallet();
  if (name === "profile") showProfile({ welcome });
}

for (const b of $("tabs").querySelectorAll("button[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));

/** Open (or create) the 1:1 chat with a person and show it. */
async function openDirect(userId, displayName) {
  const r = await api.post("/api/chats/direct", { user_id: userId });
  if (r.status !== 200 && r.status !== 201) return tError(r);
  if (displayName) rememberName(userId, displayName);
  const cs = chatState(r.data);
  if (!cs.members.has(userId)) cs.members.set(userId, { delivered_seq: 0, read_seq: 0, display_name: displayName });
  showTab("chats");
  renderChatList();
  openChat(r.data.id);
  return null;
}

initWallet({ api, me: () => state.me });
initProfile({ api, me: () => state.me, setMe: (u) => { state.me = u; drawWhoami(); }, openDirect });

function setStatus(which) {
  const el = $("status");
  el.dataset.state = which;
  el.textContent = t(`chat.status.${which}`);
  el.classList.toggle("bad", which !== "live");
}

function drawWhoami() {
  const user = state.me;
  if (!user) return;
  fill($("whoami"), h("bdi", null, user.display_name), user.username ? [" ", h("bdi", { dir: "ltr" }, `@${user.username}`)] : null);
}

function drawAmountLabel() {
  for (const el of document.querySelectorAll(".amount-label")) el.textContent = t("pay.amount", { unit: t(`currency.${bankCurrency()}`) });
}

/** Redraw everything drawn from JS in the new language (static text is redone by localize()). */
function redraw() {
  localize(document);
  drawAmountLabel();
  if (!state.me) return showSignin();
  drawWhoami();
  setStatus($("status").dataset.state || "reconnecting");
  renderChatList();
  const cs = state.chats.get(state.openId);
  if (cs) (cs.chat.kind === "channel" ? renderChannel : renderChat)(cs);
  if (currentTab === "wallet") showWallet();
  else drawHistory();
  if (currentTab === "profile") showProfile({ welcome: !$("welcome").hidden });
}

window.addEventListener("sb-langchange", () => {
  $("lang").value = currentLang();
  if (state.me) redraw();
});

$("lang").addEventListener("change", async (e) => {
  const code = await setLang(e.target.value);
  if (state.me && state.me.language !== code) {
    const r = await api.patch("/api/me", { language: code }).catch(() => null);
    if (r && r.ok && r.data) state.me = r.data;
  }
  redraw();
});

async function boot() {
  let user = null;
  if (api.token) {
    try {
      const r = await api.get("/api/me");
      if (r.status === 200) user = r.data;
    } catch { /* signed out below */ }
  }
  await initI18n({ profile: user && user.language, timeZone: user && user.time_zone });
  $("lang").value = currentLang();
  drawAmountLabel();
  if (user) return start(user);
  api.token = null;
  showSignin();
}

async function subscribeChannel() {
  const r = await api.post("/api/channel/subscribe");
  if (r.status === 200) state.channelId = r.data.chat_id;
}

/* ------------------------------------------------------------- chat list */

async function loadChats(first) {
  if (first) state.chatsAfter = 0;
  const r = await api.get(`/api/chats?after=${state.chatsAfter}&limit=100`);
  if (r.status !== 200) return;
  for (const chat of r.data.chats) {
    chatState(chat);
    state.chatsAfter = Math.max(state.chatsAfter, chat.id);
  }
  state.chatsMore = r.data.more;
  renderChatList();
}

$("more-chats").addEventListener("click", () => loadChats(false));

function unread(cs) {
  return Math.max(0, (cs.chat.last_seq || 0) - (cs.chat.my_read_seq || 0));
}

function renderChatList() {
  const list = $("chat-list");
  const items = [];
  const chats = [...state.chats.values()].sort((a, b) => (b.chat.last_rev || 0) - (a.chat.last_rev || 0) || b.chat.id - a.chat.id);
  // The channel first, then by recent activity.
  chats.sort((a, b) => (b.chat.kind === "channel") - (a.chat.kind === "channel"));
  for (const cs of chats) {
    const n = unread(cs);
    items.push(h("li", { class: cs.chat.id === state.openId ? "active" : "", dataset: { chatId: cs.chat.id, kind: cs.chat.kind } },
      h("button", { type: "button", onclick: () => openChat(cs.chat.id) },
        h("span", { class: "chat-name" }, h("bdi", null, chatTitle(cs))),
        h("span", { class: "chat-kind" }, t(`chat.kind.${cs.chat.kind}`)),
        cs.chat.last_at_ms ? h("time", { class: "chat-when", title: fmtDate(cs.chat.last_at_ms) }, fmtRelative(cs.chat.last_at_ms)) : null,
        n > 0 && cs.chat.kind !== "channel" ? h("span", { class: "badge", title: tn("chats.unread", n) }, fmtCount(n)) : null)));
  }
  list.replaceChildren(...items);
  $("chats-empty").hidden = items.length > 0;
  $("more-chats").hidden = !state.chatsMore;
}

$("find-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const err = $("find-error");
  err.hidden = true;
  const query = form.elements.query.value.trim();
  if (!query) return;
  const found = await api.post("/api/contacts/find", { query });
  if (found.status !== 200) {
    err.textContent = found.status === 404 ? t("find.none") : tError(found);
    err.hidden = false;
    return;
  }
  const problem = await openDirect(found.data.user_id, found.data.display_name);
  if (problem) {
    err.textContent = problem;
    err.hidden = false;
    return;
  }
  form.reset();
});

/* ------------------------------------------------------------ a chat open */

async function openChat(id) {
  state.openId = id;
  clearTyping();
  const cs = state.chats.get(id);
  renderChatList();
  $("pane-empty").hidden = true;
  $("app").classList.add("chat-open");
  const isChannel = cs && cs.chat.kind === "channel";
  $("chat-view").hidden = isChannel;
  $("channel-view").hidden = !isChannel;
  if (!cs) return;
  if (!cs.loaded) await loadLatest(cs);
  if (state.openId !== id) return;
  if (isChannel) renderChannel(cs);
  else renderChat(cs);
  markRead(cs);
}

$("back").addEventListener("click", () => {
  $("app").classList.remove("chat-open");
  state.openId = null;
  $("chat-view").hidden = true;
  $("channel-view").hidden = true;
  $("pane-empty").hidden = false;
  renderChatList();
});

/** Load the chat's metadata and members, then its newest page of history. */
async function loadLatest(cs) {
  const id = cs.chat.id;
  const meta = await api.get(`/api/chats/${id}`);
  if (meta.status !== 200) return;
  chatState(meta.data);
  for (const m of meta.data.members || []) {
    cs.members.set(m.user_id, { delivered_seq: m.delivered_seq, read_seq: m.read_seq, display_name: m.display_name, username: m.username });
    if (m.display_name) rememberName(m.user_id, m.display_name);
  }
  // The rev read before the history: /changes after it replays anything that
  // moved while the page loaded (upserts by seq make a replay harmless).
  cs.lastRev = Math.max(cs.lastRev, meta.data.last_rev);
  const path = cs.chat.kind === "channel" ? `/api/channel/posts?limit=${PAGE}` : `/api/chats/${id}/messages?before=${Number.MAX_SAFE_INTEGER}&limit=${PAGE}`;
  const r = await api.get(path);
  if (r.status !== 200) return;
  for (const m of r.data.messages) upsert(cs, m);
  cs.olderMore = r.data.more;
  cs.loaded = true;
  await catchUp(cs);
}

async function loadOlder(cs) {
  if (cs.oldest === null) return;
  const path = cs.chat.kind === "channel" ? `/api/channel/posts?before=${cs.oldest}&limit=${PAGE}`
                                           : `/api/chats/${cs.chat.id}/messages?before=${cs.oldest}&limit=${PAGE}`;
  const r = await api.get(path);
  if (r.status !== 200) return;
  for (const m of r.data.messages) upsert(cs, m);
  cs.olderMore = r.data.more;
  if (state.openId === cs.chat.id) (cs.chat.kind === "channel" ? renderChannel : renderChat)(cs, { keepScroll: true });
}

$("older").addEventListener("click", () => { const cs = state.chats.get(state.openId); if (cs) loadOlder(cs); });
$("older-posts").addEventListener("click", () => { const cs = state.chats.get(state.openId); if (cs) loadOlder(cs); });

/** Keep a message (new, or a newer state of one we have). */
function upsert(cs, m) {
  const had = cs.messages.get(m.seq);
  if (had && had.rev > m.rev) return false;
  cs.messages.set(m.seq, m);
  if (cs.oldest === null || m.seq < cs.oldest) cs.oldest = m.seq;
  if (m.rev > cs.lastRev) cs.lastRev = m.rev;
  if (m.seq > (cs.chat.last_seq || 0)) cs.chat.last_seq = m.seq;
  if (m.rev > (cs.chat.last_rev || 0)) cs.chat.last_rev = m.rev;
  // One's own messages are never unread.
  if (state.me && m.sender_id === state.me.id && m.seq > (cs.chat.my_read_seq || 0)) cs.chat.my_read_seq = m.seq;
  return true;
}

/** Everything that changed in a loaded chat since the last rev we saw. */
async function catchUp(cs) {
  for (let guard = 0; guard < 1000; guard++) {
    const r = await api.get(`/api/chats/${cs.chat.id}/changes?after_rev=${cs.lastRev}&limit=200`);
    if (r.status !== 200) return;
    for (const m of r.data.messages) upsert(cs, m);
    cs.lastRev = Math.max(cs.lastRev, r.data.last_rev);
    if (!r.data.more) break;
  }
}

/* --------------------------------------------------------------- render */

function renderChat(cs, { keepScroll = false } = {}) {
  fill($("chat-title"), h("bdi", null, chatTitle(cs)));
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const list = $("message-list");
  const seqs = [...cs.messages.keys()].sort((a, b) => a - b);
  list.replaceChildren(...seqs.map((seq) => messageItem(cs, cs.messages.get(seq))));
  $("older").hidden = !cs.olderMore;
  const readOnly = cs.chat.kind === "official";
  $("compose").hidden = readOnly;
  $("pay-box").hidden = readOnly;
  drawPayForm(cs);
  if (keepScroll) box.scrollTop = box.scrollHeight - fromBottom;
  else if (atBottom || !box.dataset.seen || box.dataset.seen !== String(cs.chat.id)) box.scrollTop = box.scrollHeight;
  box.dataset.seen = String(cs.chat.id);
}

/** Receipt marks of my own message: sent, delivered to everyone else, read by everyone else. */
function receiptMark(cs, m) {
  const others = [...cs.members.entries()].filter(([uid]) => uid !== state.me.id);
  if (others.length === 0) return { mark: "✓", title: "sent" };
  const read = others.every(([, r]) => r.read_seq >= m.seq);
  const delivered = others.every(([, r]) => r.delivered_seq >= m.seq);
  if (read) return { mark: "✓✓", title: "read", cls: "read" };
  if (delivered) return { mark: "✓✓", title: "delivered" };
  return { mark: "✓", title: "sent" };
}

function payloadOf(m) {
  if (!m.payload) return null;
  if (typeof m.payload === "object") return m.payload;
  try { return JSON.parse(m.payload); } catch { return null; }
}

/** An amount with tomans beside rials where the bank shows them. */
function moneyNodes(amountMinor, currency) {
  if (!Number.isSafeInteger(amountMinor)) return "?";
  const toman = fmtToman(amountMinor, currency);
  return [bdiMoney(fmtMoney(amountMinor, currency), { class: "amount" }), toman ? h("span", { class: "toman" }, " (", bdiMoney(toman), ")") : null];
}

function fmtCount(n) { return new Intl.NumberFormat(document.documentElement.lang).format(n); }

/** The sender's name: from the server (members, payload names), else what this page learned. */
function senderName(cs, m) {
  if (m.sender_name) return m.sender_name;
  return memberName(cs, m.sender_id);
}

function memberName(cs, userId) {
  const member = cs && cs.members.get(userId);
  if (member && member.display_name && !(state.me && userId === state.me.id)) return member.display_name;
  return nameOf(userId);
}

function paymentCard(cs, m) {
  const p = payloadOf(m) || {};
  const status = m.status || p.status || "pending";
  const currency = p.currency || bankCurrency();
  const me = state.me.id;
  const shares = Array.isArray(p.shares) ? p.shares : [];
  const myShare = shares.find((s) => s.user_id === me);
  const actions = [];
  if (status === "pending" && !m.deleted) {
    const owes = (p.kind === "request" && p.from_user_id === me) || (myShare && myShare.status === "pending" && m.sender_id !== me);
    if (owes) {
      actions.push(["pay", myShare && p.kind === "split" ? t("payment.pay_share", { amount: fmtMoney(myShare.amount_minor, currency) }) : t("payment.pay")]);
      actions.push(["decline", t("payment.decline")]);
    }
    if ((p.kind === "request" || p.kind === "split") && m.sender_id === me) actions.push(["cancel", t("payment.cancel")]);
  }
  const paid = shares.filter((s) => s.status === "paid").length;
  const kind = ["send", "request", "split", "bill", "topup"].includes(p.kind) ? p.kind : "send";
  const card = h("div", { class: `payment status-${status}`, dataset: { status, kind: p.kind || "" } },
    h("div", { class: "payment-kind" }, t(`payment.kind.${kind}`)),
    h("div", { class: "payment-amount" }, moneyNodes(p.amount_minor, currency)),
    p.kind === "send" && p.to_user_id ? h("div", { class: "payment-note" }, tNodes("payment.to", { name: bdi(p.to_name || memberName(cs, p.to_user_id)) })) : null,
    p.kind === "request" && p.from_user_id ? h("div", { class: "payment-note" }, tNodes("payment.request_from", {
      requester: bdi(p.requester_name || senderName(cs, m)), payer: bdi(p.from_name || memberName(cs, p.from_user_id)) })) : null,
    p.counterparty ? h("div", { class: "payment-note" }, h("bdi", null, counterpartyName({ kind: p.kind, counterparty: p.counterparty }))) : null,
    p.note ? h("div", { class: "payment-note", dir: "auto" }, p.note) : null,
    m.text ? h("div", { class: "payment-note", dir: "auto" }, m.text) : null,
    p.kind === "split" && shares.length ? h("div", { class: "payment-note small" }, t("payment.paid_count", { paid, total: shares.length })) : null,
    shares.length ? h("ul", { class: "shares" }, shares.map((sh) =>
      h("li", { class: `share status-${sh.status}` }, tNodes("payment.share", {
        name: bdi(sh.display_name || memberName(cs, sh.user_id)), amount: bdi(fmtMoney(sh.amount_minor, currency)), status: t(`payment.status.${sh.status}`) })))) : null,
    Number.isSafeInteger(p.fee_minor) && p.fee_minor > 0 ? h("div", { class: "payment-note small" }, t("payment.fee", { amount: fmtMoney(p.fee_minor, currency) })) : null,
    p.reference ? h("div", { class: "payment-note small" }, tNodes("payment.reference", { reference: bdi(localDigits(p.reference), { dir: "ltr" }) })) : null,
    h("div", { class: "payment-status" }, t(`payment.status.${status}`)),
    actions.length ? h("div", { class: "payment-actions" }, actions.map(([action, label]) =>
      h("button", { type: "button", class: action === "pay" ? "" : "secondary", dataset: { action },
                    onclick: (e) => { e.currentTarget.disabled = true; paymentAction(cs, m, action, card); } }, label))) : null,
    h("div", { class: "payment-error error small" }));
  return card;
}

function messageItem(cs, m) {
  const mine = state.me && m.sender_id === state.me.id;
  const body = [];
  if (m.reply_to_seq) {
    const orig = cs.messages.get(m.reply_to_seq);
    body.push(h("div", { class: "reply-to", dir: "auto" }, "↪ ", orig && orig.text ? orig.text.slice(0, 80) : "#", orig && orig.text ? null : m.reply_to_seq));
  }
  if (m.deleted) body.push(h("div", { class: "deleted" }, t("msg.deleted")));
  else if (m.kind === "payment") body.push(paymentCard(cs, m));
  else if (m.kind === "keyboard") body.push(h("div", { class: "text", dir: "auto" }, m.text || ""), keyboard(cs, m));
  else body.push(h("div", { class: "text", dir: "auto" }, m.text ?? ""));
  const quote = m.kind === "notice" && !m.deleted ? (payloadOf(m) || {}).quote : null;
  if (quote && typeof quote.text === "string") {
    // A customer's words inside a bank notice: shown as their quotation, never as the bank's.
    body.push(h("blockquote", { class: "customer-quote" },
      h("div", { class: "quote-by small" }, tNodes("msg.quote_by", { name: bdi(nameOf(quote.author_id)) })),
      h("div", { class: "quote-text", dir: "auto" }, quote.text)));
  }
  const meta = [fmtClock(m.created_at_ms)];
  if (m.edited_at_ms && !m.deleted) meta.push(` · ${t("msg.edited")}`);
  let mark = null;
  if (mine && !m.deleted) {
    const r = receiptMark(cs, m);
    mark = h("span", { class: `receipt ${r.cls || ""}`, title: t(`receipt.${r.title}`), dataset: { receipt: r.title } }, r.mark);
  }
  const canChange = mine && !m.deleted && m.kind === "text";
  return h("li", { class: `msg ${mine ? "mine" : "theirs"} kind-${m.kind}`, dataset: { seq: m.seq, rev: m.rev } },
    mine ? null : h("div", { class: "sender" }, h("bdi", null, senderName(cs, m))),
    body,
    h("div", { class: "meta" },
      canChange ? h("button", { type: "button", class: "msg-action", title: t("msg.edit"), dataset: { action: "edit" }, onclick: () => editMessage(cs, m) }, t("msg.edit")) : null,
      canChange ? h("button", { type: "button", class: "msg-action", title: t("msg.delete"), dataset: { action: "delete" }, onclick: () => deleteMessage(cs, m) }, t("msg.delete")) : null,
      h("time", { title: fmtDate(m.created_at_ms) }, meta.join("")), mark ? " " : null, mark));
}

/** Edit one's own text message (the others see "edited"). */
async function editMessage(cs, m) {
  const text = prompt(t("msg.edit_prompt"), m.text ?? "");
  if (text === null || !text.trim() || text === m.text) return;
  const r = await api.patch(`/api/chats/${cs.chat.id}/messages/${m.seq}`, { text });
  if (r.status === 200) {
    upsert(cs, r.data.message);
    renderChat(cs);
  } else sendError(tError(r));
}

/** Delete one's own message (a tombstone stays: "message deleted"). */
async function deleteMessage(cs, m) {
  if (!confirm(t("msg.delete_confirm"))) return;
  const r = await api.del(`/api/chats/${cs.chat.id}/messages/${m.seq}`);
  if (r.status === 204) await catchUp(cs).then(() => renderChat(cs));
  else sendError(tError(r));
}

function sendError(text) {
  const err = $("send-error");
  err.textContent = text;
  err.hidden = false;
}

function keyboard(cs, m) {
  const p = payloadOf(m);
  if (!p || !Array.isArray(p.buttons)) return null;
  return h("div", { class: "keyboard" }, p.buttons.map((row) =>
    h("div", { class: "kb-row" }, (Array.isArray(row) ? row : []).map((b) =>
      h("button", { type: "button", class: "kb", dataset: { data: b.data ?? "" }, onclick: (e) => press(cs, m, b, e.currentTarget) }, String(b.text))))));
}

/** A keyboard button is a press (its data to the bot), never a text message. */
async function press(cs, m, button, el) {
  el.disabled = true;
  const r = await api.post(`/api/chats/${cs.chat.id}/messages/${m.seq}/press`, { data: String(button.data ?? "") }).catch(() => null);
  el.disabled = false;
  if (r && r.ok) {
    el.classList.add("pressed");
    el.title = t("kb.pressed");
  } else sendError(tError(r));
}

/* ----------------------------------------------------------- the channel */

function renderChannel(cs) {
  const posts = [...cs.messages.values()].filter((m) => m.kind === "post").sort((a, b) => b.seq - a.seq);
  const comments = new Map();
  for (const m of cs.messages.values()) {
    if (m.kind !== "comment") continue;
    if (!comments.has(m.reply_to_seq)) comments.set(m.reply_to_seq, []);
    comments.get(m.reply_to_seq).push(m);
  }
  $("post-list").replaceChildren(...posts.map((p) => postItem(cs, p, (comments.get(p.seq) || []).sort((a, b) => a.seq - b.seq))));
  $("older-posts").hidden = !cs.olderMore;
}

function postItem(cs, post, comments) {
  const err = h("p", { class: "error small", hidden: true });
  const form = h("form", { class: "comment-form", onsubmit: async (e) => {
      e.preventDefault();
      const text = e.currentTarget.elements.text.value;
      if (!text.trim()) return;
      const r = await api.post(`/api/channel/posts/${post.seq}/comments`, { text, client_id: clientId("c") });
      if (r.status === 201) {
        upsert(cs, r.data.message);
        renderChannel(cs);
      } else {
        err.textContent = tError(r);
        err.hidden = false;
      }
    } },
    h("input", { name: "text", maxlength: 16384, dir: "auto", placeholder: t("channel.comment_placeholder"), "aria-label": t("channel.comment_placeholder") }),
    h("button", { type: "submit" }, t("channel.comment")));
  return h("li", { class: "post", dataset: { seq: post.seq } },
    h("div", { class: "text", dir: "auto" }, post.deleted ? t("channel.post_deleted") : post.text ?? ""),
    h("div", { class: "meta" }, h("time", null, fmtDate(post.created_at_ms))),
    h("div", { class: "counts" },
      h("button", { type: "button", class: "like", onclick: async () => {
          const r = await api.post(`/api/channel/posts/${post.seq}/like`);
          if (r.status !== 204 && r.status !== 409) { err.textContent = tError(r); err.hidden = false; }
        }, "aria-label": tn("channel.likes", post.likes ?? 0) }, "♥ ", h("span", { class: "likes" }, fmtCount(post.likes ?? 0))),
      h("span", { class: "comments-count", title: tn("channel.comments", post.comments ?? 0) }, "💬 ", fmtCount(post.comments ?? 0)),
      h("span", { class: "shares", title: tn("channel.shares", post.shares ?? 0) }, "↗ ", fmtCount(post.shares ?? 0))),
    h("ol", { class: "comments" }, comments.map((c) =>
      h("li", { class: "comment", dataset: { seq: c.seq } },
        h("bdi", { class: "sender" }, senderName(cs, c)), " ",
        h("span", { class: "text", dir: "auto" }, c.deleted ? t("channel.comment_deleted") : c.text ?? "")))),
    form, err);
}

/* --------------------------------------------------------------- sending */

async function sendText(cs, text) {
  const err = $("send-error");
  err.hidden = true;
  const body = { text, client_id: clientId() };
  // One retry with the same client_id: the server answers the first message if it got it.
  let r;
  for (let attempt = 0; attempt < 2; attempt++) {
    try { r = await api.post(`/api/chats/${cs.chat.id}/messages`, body); break; } catch { r = null; }
  }
  if (r && (r.status === 201 || r.status === 200)) {
    state.lastTypingSent = 0; // the next keystroke is a new bout of typing
    upsert(cs, r.data.message);
    if (state.openId === cs.chat.id) renderChat(cs);
    return true;
  }
  err.textContent = tError(r);
  err.hidden = false;
  return false;
}

$("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const cs = state.chats.get(state.openId);
  const area = event.currentTarget.elements.text;
  const text = area.value;
  if (!cs || !text.trim()) return;
  if (await sendText(cs, text)) area.value = "";
});

$("compose").elements.text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("compose").requestSubmit();
  }
});

$("compose").elements.text.addEventListener("input", () => {
  const now = Date.now();
  if (!state.openId || now - state.lastTypingSent < TYPING_SEND_MS) return;
  state.lastTypingSent = now;
  api.post(`/api/chats/${state.openId}/typing`).catch(() => {});
});

/* --------------------------------------------------- money in the chat */

const payForm = $("pay-form");

/** Show the fields the chosen operation needs, and the other members to pick from. */
function drawPayForm(cs) {
  const op = payForm.elements.op.value;
  for (const label of payForm.querySelectorAll("label[data-for]")) label.hidden = !label.dataset.for.split(" ").includes(op);
  const splitOption = payForm.elements.op.querySelector('option[value="split"]');
  splitOption.disabled = !cs || cs.chat.kind !== "group";
  if (cs) {
    const others = [...cs.members.keys()].filter((uid) => uid !== state.me.id);
    const current = payForm.elements.member.value;
    payForm.elements.member.replaceChildren(...others.map((uid) => h("option", { value: uid, selected: String(uid) === current }, memberName(cs, uid))));
  }
}
payForm.elements.op.addEventListener("change", () => drawPayForm(state.chats.get(state.openId)));

payForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const cs = state.chats.get(state.openId);
  if (!cs) return;
  const f = payForm.elements;
  const out = $("pay-result");
  out.textContent = "";
  const op = f.op.value;
  const key = clientId(op);
  const currency = bankCurrency();
  const amount = parseMoney(f.amount.value, currency);
  if (["send", "request", "split", "topup"].includes(op) && amount === null) {
    out.textContent = t("pay.amount_bad", { unit: t(`currency.${currency}`), example: fmtMoney(currency === "IRR" ? 500000 : 12050, currency) });
    return;
  }
  const note = f.note.value.trim() || undefined;
  const who = Number(f.member.value);
  const name = memberName(cs, who);
  // Bills and top-ups are private: paid from the wallet, the receipt only the
  // payer's, unless they ask for it to be shown in this chat.
  const share = f.share.checked;
  let path = `/api/chats/${cs.chat.id}/payments/${op}`, body, rows, goLabel;
  if (op === "send") {
    body = { to_user_id: who, amount_minor: amount, note, idempotency_key: key };
    rows = [[t("confirm.payee"), bdi(name, { class: "payee" })], [t("receipt.amount"), money(amount)], note ? [t("pay.note"), h("span", { dir: "auto" }, note)] : null];
    goLabel = tNodes("confirm.pay", { amount: fmtMoney(amount), name: bdi(name) });
  } else if (op === "request") {
    body = { from_user_id: who, amount_minor: amount, note, idempotency_key: key };
    rows = [[t("confirm.payee"), bdi(name, { class: "payee" })], [t("receipt.amount"), money(amount)], note ? [t("pay.note"), h("span", { dir: "auto" }, note)] : null];
    goLabel = tNodes("confirm.request", { amount: fmtMoney(amount), name: bdi(name) });
  } else if (op === "split") {
    const members = [...cs.members.keys()];
    body = { members, subtotal_minor: amount, mode: "equal", title: note, idempotency_key: key };
    rows = [[t("receipt.amount"), money(amount)], [t("chat.kind.group"), h("span", null, members.map((uid, i) => [i ? (currentLang() === "fa" ? "، " : ", ") : "", bdi(memberName(cs, uid))]))]];
    goLabel = t("confirm.split", { amount: fmtMoney(amount), count: members.length });
  } else if (op === "bill") {
    const bill = digitsOnly(f.bill_id.value), payment = digitsOnly(f.payment_id.value);
    body = { bill_id: bill, payment_id: payment, idempotency_key: key };
    if (!share) path = "/api/bills/pay";
    rows = [[t("pay.bill_id"), bdi(bill, { dir: "ltr" })], [t("pay.payment_id"), bdi(payment, { dir: "ltr" })], share ? null : [t("receipt.title"), t("confirm.private_note")]];
    goLabel = t("confirm.bill", { bill });
  } else {
    const phone = readPhone(f.mobile.value, state.me.phone);
    if (!phone.ok) {
      out.textContent = t(phone.error, phone.vars);
      return;
    }
    body = { mobile: phone.value, amount_minor: amount, idempotency_key: key };
    if (!share) path = "/api/topups";
    rows = [[t("pay.mobile"), bdi(phone.value, { dir: "ltr" })], [t("receipt.amount"), money(amount)], share ? null : [t("receipt.title"), t("confirm.private_note")]];
    goLabel = t("confirm.topup", { mobile: phone.value, amount: fmtMoney(amount) });
  }
  const r = await confirmStep({ content: facts(rows), goLabel }, () => api.post(path, body));
  if (!r) return;
  if (r.data && r.data.message) {
    upsert(cs, r.data.message);
    renderChat(cs);
  }
  const receipt = r.data && (r.data.receipt || (r.data.reference !== undefined ? r.data : null));
  out.textContent = receipt
    ? t("pay.done", { amount: fmtMoney(receipt.amount_minor, currency), fee: fmtMoney(receipt.fee_minor, currency), reference: localDigits(receipt.tracking || receipt.reference) })
    : t("pay.sent");
  if (receipt && !r.data.message) openReceipt(receipt);
  for (const field of ["amount", "note", "bill_id", "payment_id", "mobile"]) f[field].value = "";
  f.share.checked = false;
});

/** Act on a payment message (pay my share or the request, decline, cancel). */
async function paymentAction(cs, m, action, card) {
  const body = action === "pay" ? { idempotency_key: clientId("pay") } : undefined;
  const r = await api.post(`/api/chats/${cs.chat.id}/payments/${m.seq}/${action}`, body);
  if ((r.status === 200 || r.status === 201) && r.data && r.data.message) {
    upsert(cs, r.data.message);
    if (state.openId === cs.chat.id) renderChat(cs);
  } else {
    const err = card.querySelector(".payment-error");
    if (err) err.textContent = tError(r);
  }
}

/* --------------------------------------------------------------- receipts */

async function markRead(cs) {
  const seq = cs.chat.last_seq || 0;
  if (seq <= (cs.chat.my_read_seq || 0) || document.hidden) return;
  cs.chat.my_read_seq = seq;
  cs.chat.my_delivered_seq = Math.max(cs.chat.my_delivered_seq || 0, seq);
  renderChatList();
  await api.post(`/api/chats/${cs.chat.id}/receipts`, { read_seq: seq }).catch(() => {});
}

async function markDelivered(cs) {
  const seq = cs.chat.last_seq || 0;
  if (seq <= (cs.chat.my_delivered_seq || 0)) return;
  cs.chat.my_delivered_seq = seq;
  await api.post(`/api/chats/${cs.chat.id}/receipts`, { delivered_seq: seq }).catch(() => {});
}

document.addEventListener("visibilitychange", () => {
  const cs = state.chats.get(state.openId);
  if (cs && !document.hidden) markRead(cs);
});

/* ------------------------------------------------------------ live events */

function clearTyping() {
  for (const t of state.typing.values()) clearTimeout(t);
  state.typing.clear();
  $("typing").textContent = "";
}

function renderTyping() {
  const names = [...state.typing.keys()].map((uid) => nameOf(uid));
  $("typing").textContent = names.length ? tn("chat.typing", names.length, { names: new Intl.ListFormat(currentLang()).format(names) }) : "";
}

async function onLiveState(s) {
  const el = $("status");
  setStatus(s === "open" ? "live" : "reconnecting");
  if (s !== "open") return;
  // Catch up on everything missed while the socket was down.
  await loadChats(true);
  for (const cs of state.chats.values()) if (cs.loaded) await catchUp(cs);
  const cs = state.chats.get(state.openId);
  if (cs) {
    (cs.chat.kind === "channel" ? renderChannel : renderChat)(cs);
    markRead(cs);
  }
}

async function onEvent(ev) {
  switch (ev.type) {
    case "message.new":
    case "message.edited":
    case "message.deleted":
    case "payment.status":
    case "post.counts": {
      let cs = state.chats.get(ev.chat_id);
      if (!cs) {
        // A chat we did not know yet (someone wrote first): fetch it.
        const r = await api.get(`/api/chats/${ev.chat_id}`);
        if (r.status !== 200) return;
        cs = chatState(r.data);
      }
      if (ev.message) {
        if (cs.loaded) upsert(cs, ev.message);
        else {
          if (ev.message.seq > (cs.chat.last_seq || 0)) cs.chat.last_seq = ev.message.seq;
          if (ev.message.sender_id === state.me.id) cs.chat.my_read_seq = Math.max(cs.chat.my_read_seq || 0, ev.message.seq);
          if (ev.rev > (cs.chat.last_rev || 0)) cs.chat.last_rev = ev.rev;
        }
      }
      if (ev.type === "message.new" && ev.message && ev.message.sender_id !== state.me.id) {
        state.typing.delete(ev.message.sender_id);
        if (state.openId === ev.chat_id && !document.hidden) markRead(cs);
        else markDelivered(cs);
      }
      renderChatList();
      if (state.openId === ev.chat_id) {
        (cs.chat.kind === "channel" ? renderChannel : renderChat)(cs);
        renderTyping();
      }
      break;
    }
    case "receipt": {
      const cs = state.chats.get(ev.chat_id);
      if (!cs) return;
      cs.members.set(ev.user_id, { ...cs.members.get(ev.user_id), delivered_seq: ev.delivered_seq, read_seq: ev.read_seq });
      if (state.openId === ev.chat_id && cs.chat.kind !== "channel") renderChat(cs);
      break;
    }
    case "typing": {
      if (ev.chat_id !== state.openId || ev.user_id === state.me.id) return;
      clearTimeout(state.typing.get(ev.user_id));
      state.typing.set(ev.user_id, setTimeout(() => { state.typing.delete(ev.user_id); renderTyping(); }, TYPING_SHOW_MS));
      renderTyping();
      break;
    }
    case "members": {
      const cs = state.chats.get(ev.chat_id);
      if (cs && ev.action === "renamed" && ev.title) cs.chat.title = ev.title;
      if (cs && (ev.action === "removed" || ev.action === "left") && ev.user_id === state.me.id) {
        state.chats.delete(ev.chat_id);
        if (state.openId === ev.chat_id) {
          state.openId = null;
          $("chat-view").hidden = true;
          $("pane-empty").hidden = false;
        }
      } else if (cs && ev.user_id && ev.action !== "renamed") {
        if (ev.action === "removed" || ev.action === "left") cs.members.delete(ev.user_id);
        else if (!cs.members.has(ev.user_id)) cs.members.set(ev.user_id, { delivered_seq: 0, read_seq: 0 });
      } else if (!cs) {
        await loadChats(true);
      }
      renderChatList();
      if (cs && state.openId === ev.chat_id && cs.chat.kind !== "channel") renderChat(cs);
      break;
    }
    default:
      break;
  }
}

boot();

// Installable app: the service worker keeps the shell for opening offline.
if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* the app works without it */ });
}
