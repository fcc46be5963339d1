// wallet.js - the customer's money screen: the balance, paying someone by
// phone, @username, e-mail or payment link and card to card (each through
// the server's quote and a confirm step), the history of receipts with
// filters and paging, a receipt with its reference, and a CSV statement.

import { clientId, h } from "./lib.js";
import { bankCurrency, bdi, bdiMoney, digitsOnly, fmtDate, fmtMoney, fmtToman, has, localDigits, parseMoney, setMoneySettings, t, tError, tNodes } from "./i18n/i18n.js";
import { readPhone } from "./phone.js";
import { confirmStep, facts, showReceipt } from "./sheet.js";

const $ = (id) => document.getElementById(id);
const PAGE_SHOWN = 20;   // receipts shown per "Older" press
const PAGES_MAX = 50;    // GET /api/receipts pages read at most (100 each)

let ctx = null;          // { api, me: () => user }
const wallet = { receipts: [], shown: PAGE_SHOWN, loaded: false };

export function initWallet(context) {
  ctx = context;
  $("history-filter").addEventListener("change", () => { wallet.shown = PAGE_SHOWN; drawHistory(); });
  $("history-more").addEventListener("click", () => { wallet.shown += PAGE_SHOWN; drawHistory(); });
  $("export").addEventListener("click", exportCsv);
  $("alias-pay-form").addEventListener("submit", payByAlias);
  $("card-pay-form").addEventListener("submit", payByCard);
}

/** The amount with its unit, and tomans beside rials where the bank shows them. */
export function money(amountMinor, currency = bankCurrency(), { toman: withToman = true } = {}) {
  const toman = withToman ? fmtToman(amountMinor, currency) : "";
  return [bdiMoney(fmtMoney(amountMinor, currency), { class: "amount" }), toman ? h("span", { class: "toman" }, " (", bdiMoney(toman), ")") : null];
}

/** Who a receipt is with, in the user's language where the server names a kind ("water bill"). */
export function counterpartyName(r) {
  const bill = r.kind === "bill" && /^([a-z_]+) bill$/.exec(r.counterparty || "");
  if (bill && has(`bill.type.${bill[1]}`)) return t(`bill.type.${bill[1]}`);
  return r.counterparty || "";
}

export async function showWallet() {
  drawHistory();
  await Promise.all([loadBalance(), loadHistory()]);
}

async function loadBalance() {
  const r = await ctx.api.get("/api/wallet").catch(() => null);
  if (!r || !r.ok) {
    $("balance").textContent = tError(r);
    return;
  }
  setMoneySettings({ currency: r.data.currency });
  $("balance").replaceChildren(...money(r.data.available_minor, r.data.currency));
}

async function loadHistory() {
  const all = [];
  let after = 0;
  for (let page = 0; page < PAGES_MAX; page++) {
    const r = await ctx.api.get(`/api/receipts?after=${after}`).catch(() => null);
    if (!r || !r.ok) break;
    all.push(...r.data.receipts);
    if (!r.data.more || r.data.receipts.length === 0) break;
    after = r.data.receipts[r.data.receipts.length - 1].id;
  }
  wallet.receipts = all.reverse(); // newest first
  wallet.loaded = true;
  drawHistory();
}

function filtered() {
  const f = $("history-filter").value;
  return wallet.receipts.filter((r) => {
    if (!f) return true;
    if (f === "fees") return r.fee_minor > 0;
    if (f === "pending") return r.state === "pending" || r.state === "manual";
    return r.kind === f;
  });
}

function kindName(kind) {
  return ["transfer", "card_to_card", "bill", "topup", "request", "deposit"].includes(kind) ? t(`kind.${kind}`) : kind;
}

function stateName(state) {
  return ["pending", "done", "declined", "manual"].includes(state) ? t(`receipt.state.${state}`) : state;
}

export function drawHistory() {
  if (!ctx) return;
  $("export").replaceChildren(...tNodes("wallet.export", { format: bdi("CSV", { dir: "ltr" }) }));
  const rows = filtered();
  const list = rows.slice(0, wallet.shown);
  $("history").replaceChildren(...list.map((r) => h("li", { class: `receipt-row state-${r.state}`, dataset: { id: r.id, kind: r.kind } },
    h("button", { type: "button", onclick: () => openReceipt(r) },
      h("span", { class: "what" }, h("span", { class: "kind" }, kindName(r.kind)), " ", h("bdi", { class: "who" }, counterpartyName(r))),
      h("span", { class: "how-much" }, money(r.kind === "deposit" ? r.amount_minor : -r.amount_minor, bankCurrency(), { toman: false })),
      h("time", { class: "when small muted" }, fmtDate(r.created_at_ms)),
      r.state !== "done" ? h("span", { class: "state small" }, stateName(r.state)) : null))));
  $("history-empty").hidden = !wallet.loaded || rows.length > 0;
  $("history-more").hidden = rows.length <= wallet.shown;
}

/** The facts of a receipt: what, how much, fee, total, to whom, card, when, reference. */
export function receiptFacts(r) {
  return facts([
    [t("receipt.state"), `${kindName(r.kind)} · ${stateName(r.state)}`],
    [t("receipt.amount"), money(r.amount_minor)],
    [t("receipt.fee"), r.fee_minor > 0 ? money(r.fee_minor) : t("confirm.free")],
    r.fee_minor > 0 ? [t("receipt.total"), money(r.amount_minor + r.fee_minor)] : null,
    r.counterparty ? [r.kind === "deposit" ? t("receipt.from") : t("receipt.to"), bdi(counterpartyName(r))] : null,
    r.masked_card ? [t("receipt.card"), bdi(localDigits(r.masked_card), { dir: "ltr" })] : null,
    [t("receipt.when"), fmtDate(r.created_at_ms)],
    [t("receipt.reference"), bdi(localDigits(r.tracking || r.reference || ""), { dir: "ltr", class: "reference" })],
    r.reference && r.tracking ? [t("receipt.details"), bdi(localDigits(r.reference), { dir: "ltr" })] : null,
    r.rrn ? [t("receipt.rrn"), bdi(localDigits(r.rrn), { dir: "ltr" })] : null,
  ]);
}

export function openReceipt(r) {
  showReceipt(h("div", { class: "receipt-detail", dataset: { id: r.id } }, receiptFacts(r)));
}

/** After a payment: show its receipt and bring the balance and history up to date. */
export async function paid(receipt) {
  openReceipt(receipt);
  await showWallet();
}

function formError(form, text) {
  const el = form.querySelector(".form-error");
  el.textContent = text || "";
  el.hidden = !text;
}

function readAmount(form) {
  const currency = bankCurrency();
  const amount = parseMoney(form.elements.amount.value, currency);
  if (amount === null) formError(form, t("pay.amount_bad", { unit: t(`currency.${currency}`), example: fmtMoney(currency === "IRR" ? 500000 : 12050, currency) }));
  return amount;
}

async function payByAlias(event) {
  event.preventDefault();
  const form = event.currentTarget;
  formError(form, "");
  let alias = form.elements.alias.value.trim();
  if (!alias) return formError(form, t("pay.alias_bad"));
  // A number is read by the customer's own country first.
  if (/^[+\d\s\-()\u06F0-\u06F9\u0660-\u0669]+$/.test(alias)) {
    const phone = readPhone(alias, ctx.me().phone);
    if (!phone.ok) return formError(form, t(phone.error, phone.vars));
    alias = phone.value;
  }
  const amount = readAmount(form);
  if (amount === null) return;
  const q = await ctx.api.post("/api/payments/quote", { alias, amount_minor: amount }).catch(() => null);
  if (!q || !q.ok) return formError(form, q && q.status === 404 ? t("pay.nobody") : tError(q));
  const quote = q.data;
  const name = quote.payee.display_name;
  const content = facts([
    [t("confirm.payee"), bdi(name, { class: "payee" })],
    quote.payee.masked_card ? [t("receipt.card"), bdi(quote.payee.masked_card, { dir: "ltr" })] : null,
    [t("receipt.amount"), money(quote.amount_minor)],
    [t("receipt.fee"), quote.fee_minor > 0 ? money(quote.fee_minor) : t("confirm.free")],
    [t("receipt.total"), money(quote.total_minor)],
  ]);
  const key = clientId("pay");
  const r = await confirmStep({ content: h("div", null, content, h("p", { class: "muted small" }, t("confirm.expires", { time: fmtDate(quote.expires_at_ms) }))),
    goLabel: tNodes("confirm.pay", { amount: fmtMoney(quote.total_minor), name: bdi(name) }) },
  () => ctx.api.post("/api/payments/pay", { quote_id: quote.quote_id, idempotency_key: key }));
  if (!r) return;
  form.reset();
  await paid(r.data);
}

async function payByCard(event) {
  event.preventDefault();
  const form = event.currentTarget;
  formError(form, "");
  const card = digitsOnly(form.elements.dest_card.value);
  if (!/^\d{16}$/.test(card)) return formError(form, t("pay.card_bad"));
  const amount = readAmount(form);
  if (amount === null) return;
  const q = await ctx.api.post("/api/card-transfers/quote", { dest_card: card, amount_minor: amount }).catch(() => null);
  if (!q || !q.ok) return formError(form, q && q.status === 503 ? t("pay.card_unavailable") : q && q.status === 404 ? t("pay.nobody") : tError(q));
  const quote = q.data;
  const name = quote.payee.display_name;
  const content = facts([
    [t("confirm.payee"), bdi(name, { class: "payee" })],
    [t("receipt.card"), bdi(quote.payee.masked_card, { dir: "ltr" })],
    [t("receipt.amount"), money(quote.amount_minor)],
    [t("receipt.fee"), quote.fee_minor > 0 ? money(quote.fee_minor) : t("confirm.free")],
    [t("receipt.total"), money(quote.total_minor)],
  ]);
  const key = clientId("c2c");
  const r = await confirmStep({ content, goLabel: tNodes("confirm.pay", { amount: fmtMoney(quote.total_minor), name: bdi(name) }) },
    () => ctx.api.post("/api/card-transfers", { dest_card: card, amount_minor: amount, idempotency_key: key }));
  if (!r) return;
  form.reset();
  await paid(r.data);
}

/* ------------------------------------------------------------ statement */

/** A CSV cell: quoted, and a leading = + - @ made inert for spreadsheets. */
function cell(value) {
  let s = String(value ?? "");
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** Minor units as a plain decimal string ("1200000", "12.50"): machine-readable, no grouping. */
function plainAmount(minor, currency) {
  const scale = currency === "IRR" ? 0 : 2;
  const neg = minor < 0;
  let digits = String(Math.abs(minor));
  if (scale) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return (neg ? "-" : "") + digits;
}

function exportCsv() {
  const currency = bankCurrency();
  const head = ["csv.date", "csv.kind", "csv.counterparty", "csv.amount", "csv.fee", "csv.currency", "csv.state", "csv.reference"].map((k) => cell(t(k)));
  const lines = [head.join(",")];
  for (const r of filtered()) {
    lines.push([new Date(r.created_at_ms).toISOString(), kindName(r.kind), counterpartyName(r), plainAmount(r.kind === "deposit" ? r.amount_minor : -r.amount_minor, currency),
      plainAmount(r.fee_minor, currency), currency, stateName(r.state), r.tracking || r.reference].map(cell).join(","));
  }
  // A byte-order mark so spreadsheet programs read Persian and Cyrillic as UTF-8.
  const blob = new Blob(["\uFEFF" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  const a = h("a", { href: URL.createObjectURL(blob), download: "statement.csv", hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
