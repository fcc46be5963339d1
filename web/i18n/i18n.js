// i18n.js - the localisation layer shared by the customer chat and the staff
// console: message catalogs (fa, uk, ru, en: /i18n/<lang>.json), plurals by
// Intl.PluralRules, numbers and money by Intl.NumberFormat from integer minor
// units (never floating point), dates by Intl.DateTimeFormat (the Persian
// calendar in fa, assembled from parts so they never come out jumbled),
// <html lang dir>, bidi isolation (<bdi>) and digit folding (Persian and
// Arabic-Indic digits typed into any input).
//
// Use:
//   import { initI18n, t, tn, tError, fmtMoney, fmtDate, bdi, foldDigits } from "/i18n/i18n.js";
//   await initI18n({ profile: user.language });   // before the first render
//   el.textContent = t("chat.signin.title");
//   h("span", null, tn("chat.members", 3));          // plural by count
//   h("p", null, tError(answer));                     // a server refusal as a sentence
// Static HTML: <h2 data-i18n="key">, <input data-i18n-placeholder="key">,
// data-i18n-aria-label, data-i18n-title; localize() fills them (initI18n and
// setLang call it).  setLang(code) switches and fires "sb-langchange" on window.

export const LANGS = ["fa", "uk", "ru", "en"];
const RTL = new Set(["fa"]);
/** The BCP 47 locale Intl gets for each language (fa: Persian digits and calendar). */
const LOCALES = { fa: "fa-IR-u-ca-persian-nu-arabext", uk: "uk-UA", ru: "ru-RU", en: "en-GB" };
const STORE_KEY = "socialbank.lang";
/** Digits after the point for a currency's minor unit (ISO 4217; rials have none in use). */
export const MINOR_DIGITS = { IRR: 0, UAH: 2, USD: 2, EUR: 2, RUB: 2, GBP: 2 };

let lang = "en";
let catalog = {};
let english = {};
let timeZone; // undefined: the browser's own
const settings = { currency: "IRR", showToman: true };
const cache = new Map();

/* ------------------------------------------------------------- languages */

/** The language to use: the profile's, else the one chosen on this device, else the browser's (Accept-Language), else the bank's default. */
export function chooseLang(profile, fallback = document.documentElement.dataset.defaultLang || "fa") {
  const pick = (code) => {
    if (!code) return null;
    const base = String(code).toLowerCase().split(/[-_]/)[0];
    return LANGS.includes(base) ? base : null;
  };
  let stored = null;
  try { stored = localStorage.getItem(STORE_KEY); } catch { /* storage off */ }
  const candidates = [profile, stored, ...(navigator.languages || [navigator.language])];
  for (const c of candidates) {
    const ok = pick(c);
    if (ok) return ok;
  }
  return pick(fallback) || "en";
}

async function loadCatalog(code) {
  if (cache.has(code)) return cache.get(code);
  const res = await fetch(`/i18n/${code}.json`);
  if (!res.ok) throw new Error(`catalog ${code}: ${res.status}`);
  const data = await res.json();
  cache.set(code, data);
  return data;
}

/** Load the chosen language (see chooseLang), set <html lang dir> and translate the page. */
export async function initI18n({ profile, timeZone: tz, currency, showToman } = {}) {
  if (tz) setTimeZone(tz);
  setMoneySettings({ currency, showToman });
  await setLang(chooseLang(profile), { remember: false });
}

/** Switch the language: load its catalog, set <html lang dir>, translate [data-i18n*], remember the choice. */
export async function setLang(code, { remember = true } = {}) {
  if (!LANGS.includes(code)) code = "en";
  try {
    english = await loadCatalog("en");
    catalog = code === "en" ? english : await loadCatalog(code);
  } catch {
    catalog = english;
    code = "en";
  }
  lang = code;
  if (remember) {
    try { localStorage.setItem(STORE_KEY, code); } catch { /* storage off */ }
  }
  const root = document.documentElement;
  root.lang = code;
  root.dir = RTL.has(code) ? "rtl" : "ltr";
  localize(document);
  window.dispatchEvent(new CustomEvent("sb-langchange", { detail: { lang: code } }));
  return code;
}

export function currentLang() { return lang; }
export function isRtl() { return RTL.has(lang); }
export function locale() { return LOCALES[lang] || "en-GB"; }

/** The time zone dates are shown in (an IANA name from the profile); an unknown name is ignored. */
export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    timeZone = tz;
  } catch {
    timeZone = undefined;
  }
}

/** The bank's currency (IRR or UAH, from the server) and whether tomans are shown beside rials. */
export function setMoneySettings({ currency, showToman } = {}) {
  if (currency && currency in MINOR_DIGITS) settings.currency = currency;
  if (typeof showToman === "boolean") settings.showToman = showToman;
}
export function bankCurrency() { return settings.currency; }

/* -------------------------------------------------------------- messages */

function lookup(key) {
  if (Object.prototype.hasOwnProperty.call(catalog, key)) return catalog[key];
  if (Object.prototype.hasOwnProperty.call(english, key)) return english[key];
  return undefined;
}

/** Whether a key is in the catalogs. */
export function has(key) { return lookup(key) !== undefined; }

function fill(template, vars) {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const v = vars[name];
    return typeof v === "number" || typeof v === "bigint" ? fmtNumber(v) : String(v);
  });
}

/** The sentence for key in the current language, with {name} filled from vars (numbers in local digits). */
export function t(key, vars) {
  const entry = lookup(key);
  if (entry === undefined) return key;
  if (typeof entry === "object") return tn(key, vars && vars.count !== undefined ? vars.count : 0, vars);
  return fill(entry, vars);
}

/** A plural message: catalog entry {"one": "...", "few": "...", "other": "..."} chosen by count ({count} filled). */
export function tn(key, count, vars) {
  const entry = lookup(key);
  if (entry === undefined) return key;
  if (typeof entry === "string") return fill(entry, { ...vars, count });
  const category = new Intl.PluralRules(locale()).select(Number(count));
  const template = entry[category] ?? entry.other ?? Object.values(entry)[0];
  return fill(template, { ...vars, count });
}

/** A server answer ({status, data:{error:{code, message}}}) or a failed fetch (null) as a sentence. */
export function tError(r) {
  if (!r) return t("error.network");
  const err = r.data && r.data.error;
  if (!err) return t("error.status", { status: r.status });
  const code = String(err.code || "");
  const message = String(err.message || "");
  if (code === "invalid") {
    // Instrument reasons lead the message ("bad_check_digit: ..."); fields are quoted ("field 'x' ...").
    const reason = /^([a-z_0-9]+):/.exec(message);
    if (reason && has(`error.invalid.${reason[1]}`)) return t(`error.invalid.${reason[1]}`);
    const field = /field '([a-z_0-9.]+)'/.exec(message);
    if (field) {
      const name = has(`field.${field[1]}`) ? t(`field.${field[1]}`) : field[1];
      return t("error.invalid_field", { field: name });
    }
    return t("error.invalid");
  }
  if (has(`error.${code}`)) return t(`error.${code}`);
  return t("error.status", { status: r.status });
}

/** Translate every [data-i18n], [data-i18n-placeholder|-aria-label|-title] under root. */
export function localize(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ["placeholder", "aria-label", "title"]) {
    const data = `data-i18n-${attr}`;
    for (const el of root.querySelectorAll(`[${data}]`)) el.setAttribute(attr, t(el.getAttribute(data)));
  }
}

/* ---------------------------------------------------------------- digits */

/** Persian (۰-۹) and Arabic-Indic (٠-٩) digits to ASCII; Arabic separators to their ASCII forms. */
export function foldDigits(text) {
  return String(text ?? "").replace(/[\u06F0-\u06F9\u0660-\u0669\u066B\u066C]/g, (ch) => {
    const c = ch.charCodeAt(0);
    if (c === 0x066b) return ".";
    if (c === 0x066c) return ",";
    return String(c >= 0x06f0 ? c - 0x06f0 : c - 0x0660);
  });
}

/** Only the digits of what was typed (any script), e.g. a card, bill ID or code; spaces and dashes dropped. */
export function digitsOnly(text) {
  return foldDigits(text).replace(/[\s\-\u200c\u200e\u200f]/g, "");
}

/* --------------------------------------------------------------- numbers */

function nf(opts) { return new Intl.NumberFormat(locale(), opts); }

/** A whole number (Number or BigInt) in local digits and grouping. */
export function fmtNumber(n) {
  if (typeof n === "number" && !Number.isFinite(n)) return "";
  return nf().format(n);
}

/** The digits of an integer of minor units as "1,200,000" or "10,50" in local form, no unit. */
export function fmtMinorNumber(amountMinor, currency = settings.currency) {
  let v;
  try { v = BigInt(amountMinor); } catch { return "?"; }
  const negative = v < 0n;
  if (negative) v = -v;
  const scale = BigInt(MINOR_DIGITS[currency] ?? 0);
  const unit = 10n ** scale;
  let text = nf().format(v / unit);
  if (scale > 0n) {
    const decimal = nf({ minimumFractionDigits: 1 }).formatToParts(1.5).find((p) => p.type === "decimal").value;
    text += decimal + nf({ minimumIntegerDigits: Number(scale), useGrouping: false }).format(v % unit);
  }
  if (negative) {
    const minus = nf().formatToParts(-1).filter((p) => p.type !== "integer").map((p) => p.value).join("");
    text = minus + text;
  }
  return text;
}

/** An amount of minor units with its unit after it: "۱۲۰٬۰۰۰ ریال", "1 200,50 грн". */
export function fmtMoney(amountMinor, currency = settings.currency) {
  return t("money.amount", { amount: fmtMinorNumber(amountMinor, currency), unit: t(`currency.${currency}`) });
}

/** The toman label Iranians expect beside rials ("۱۲٬۰۰۰ تومان"), or "" (not Persian, other currencies, setting off, not whole tomans). */
export function fmtToman(amountMinor, currency = settings.currency) {
  if (lang !== "fa" || currency !== "IRR" || !settings.showToman) return "";
  let v;
  try { v = BigInt(amountMinor); } catch { return ""; }
  if (v % 10n !== 0n) return "";
  return t("money.toman", { amount: nf().format(v / 10n) });
}

/**
 * What a person typed as an amount -> integer minor units, or null when it is
 * not a positive amount.  Persian/Arabic digits, spaces, thousands separators
 * (, ٬ ' and spaces) are accepted; a decimal part (. , ٫ followed by at most
 * the currency's minor digits at the end) only for currencies that have one.
 */
export function parseMoney(text, currency = settings.currency) {
  const scale = MINOR_DIGITS[currency] ?? 0;
  let s = foldDigits(text).replace(/[\s\u00a0\u202f'_\u200e\u200f]/g, "");
  let frac = "";
  if (scale > 0) {
    const m = new RegExp(`^(.*?)[.,](\\d{1,${scale}})$`).exec(s);
    if (m) { s = m[1]; frac = m[2]; }
  }
  s = s.replace(/,(?=\d{3}(?:\D|$))/g, "");
  if (!/^\d+$/.test(s)) return null;
  const digits = (s + frac.padEnd(scale, "0")).replace(/^0+(?=\d)/, "");
  const value = Number(digits);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** ASCII digits of a code or number (a reference, a masked card) in the language's own digits (Persian in fa). */
export function localDigits(text) {
  const s = String(text ?? "");
  if (lang !== "fa") return s;
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));
}

/* ----------------------------------------------------------------- dates */

function dtf(opts) { return new Intl.DateTimeFormat(locale(), { timeZone, ...opts }); }

function partsOf(ms, opts) {
  const out = {};
  for (const p of dtf(opts).formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

/** "۱۷ آذر ۱۴۰۵، ۰۹:۰۰" / "17 груд. 2026 р., 09:00": the date (and time) in the user's calendar and zone. */
export function fmtDate(ms, { time = true } = {}) {
  if (!Number.isFinite(ms)) return "";
  if (lang === "fa") {
    // Assembled from parts: Intl's own fa pattern mixes in "ساعت" and comes out jumbled in LTR contexts.
    const p = partsOf(ms, { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const date = `${p.day} ${p.month} ${p.year}`;
    return time ? `${date}، ${p.hour}:${p.minute}` : date;
  }
  return dtf(time ? { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" } : { dateStyle: "medium" }).format(new Date(ms));
}

/** "۰۹:۰۰" / "09:00". */
export function fmtClock(ms) {
  if (!Number.isFinite(ms)) return "";
  const p = partsOf(ms, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${p.hour}:${p.minute}`;
}

function dayKey(ms) {
  const p = partsOf(ms, { year: "numeric", month: "numeric", day: "numeric", numberingSystem: "latn", calendar: "gregory" });
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86400000;
}

/** Chat-list time: the clock today, "yesterday" (دیروز, вчора), the weekday this week, else the date. */
export function fmtRelative(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return "";
  const days = dayKey(now) - dayKey(ms);
  if (days <= 0) return fmtClock(ms);
  if (days === 1) return new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }).format(-1, "day");
  if (days < 7) return dtf({ weekday: "long" }).format(new Date(ms));
  return fmtDate(ms, { time: false });
}

/* ------------------------------------------------------------------ bidi */

/** A <bdi> holding an amount with its unit, laid out in the page's direction (so the unit reads after the number). */
export function bdiMoney(text, attrs = {}) {
  return bdi(text, { dir: isRtl() ? "rtl" : "ltr", ...attrs });
}

/** A <bdi> holding text (a name, number or Latin word inside a sentence of the other direction). */
export function bdi(text, attrs) {
  const el = document.createElement("bdi");
  el.textContent = String(text ?? "");
  if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/**
 * A catalog sentence with Nodes for some of its {placeholders}: tNodes("pay.to", {name: bdi(n)})
 * -> [text, <bdi>, text], so names stay isolated inside the sentence.
 */
export function tNodes(key, vars = {}) {
  const nodeVars = {}, textVars = {};
  for (const [k, v] of Object.entries(vars)) (v instanceof Node ? nodeVars : textVars)[k] = v;
  const entry = lookup(key);
  const template = typeof entry === "string" ? entry : t(key, textVars);
  const out = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    if (!(m[1] in nodeVars)) continue;
    out.push(fill(template.slice(last, m.index), textVars), nodeVars[m[1]]);
    last = m.index + m[0].length;
  }
  out.push(fill(template.slice(last), textVars));
  return out.filter((x) => x !== "");
}
