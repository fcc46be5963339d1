// lib.js - what the staff console and the customer web chat share: the API
// client (bearer token from sessionStorage), a DOM builder that only ever
// makes text nodes from data (never innerHTML), money formatting from integer
// minor units (no floating point), times, and the live WebSocket with
// reconnect.

/** A client for the HTTP API whose token lives in sessionStorage[tokenKey]. */
export class Api {
  constructor(tokenKey) {
    this.tokenKey = tokenKey;
  }
  get token() {
    return sessionStorage.getItem(this.tokenKey);
  }
  set token(value) {
    if (value) sessionStorage.setItem(this.tokenKey, value);
    else sessionStorage.removeItem(this.tokenKey);
  }
  /** fetch(method, path, body?) -> {status, data}; data is the parsed JSON or null. */
  async call(method, path, body) {
    const headers = {};
    const token = this.token;
    if (token) headers["Authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch { data = null; }
    }
    return { status: res.status, ok: res.status >= 200 && res.status < 300, data };
  }
  get(path) { return this.call("GET", path); }
  post(path, body) { return this.call("POST", path, body); }
  patch(path, body) { return this.call("PATCH", path, body); }
  put(path, body) { return this.call("PUT", path, body); }
  del(path) { return this.call("DELETE", path); }
}

/** The API's error message of an answer, or a generic one. */
export function errorText(r) {
  if (r && r.data && r.data.error) return r.data.error.message || r.data.error.code;
  return `request failed (${r ? r.status : "no answer"})`;
}

/** Build an element: h("li", {class: "x", onclick: f, dataset: {seq: 3}}, "text", child...).
 *  Strings and numbers become text nodes, so data is never parsed as HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "class") el.className = value;
      else if (key in el && typeof value !== "string") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Replace el's children with these (arrays flattened; null, undefined and false skipped). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Append these to el (arrays flattened; null, undefined and false skipped). */
export function put(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Digits after the point for a currency's minor unit (ISO 4217; rials have none in use). */
const MINOR_DIGITS = { IRR: 0, IRT: 0, UAH: 2, USD: 2, EUR: 2, RUB: 2, GBP: 2 };

/** Format an integer amount of minor units with thousands grouping, e.g.
 *  formatMinor(1200000, "IRR") = "1,200,000 IRR", formatMinor(-1050, "UAH") = "-10.50 UAH".
 *  Integer arithmetic on the decimal string: no floating point. */
export function formatMinor(amountMinor, currency = "IRR") {
  let digits;
  if (typeof amountMinor === "bigint") digits = amountMinor.toString();
  else if (Number.isSafeInteger(amountMinor)) digits = String(amountMinor);
  else return "?";
  const negative = digits.startsWith("-");
  if (negative) digits = digits.slice(1);
  const scale = MINOR_DIGITS[currency] ?? 0;
  let whole = digits, frac = "";
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    whole = digits.slice(0, digits.length - scale);
    frac = digits.slice(digits.length - scale);
  }
  whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${whole}${frac ? "." + frac : ""}${currency ? " " + currency : ""}`;
}

/** Parse what a person typed as an amount into integer minor units (null if not a positive amount). */
export function parseMinor(text, currency = "IRR") {
  const scale = MINOR_DIGITS[currency] ?? 0;
  const clean = String(text).replace(/[,\s_]/g, "");
  const m = /^(\d+)(?:\.(\d+))?$/.exec(clean);
  if (!m || (m[2] && m[2].length > scale)) return null;
  const digits = m[1] + (m[2] || "").padEnd(scale, "0");
  const value = Number(digits);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** A short local time for a millisecond timestamp. */
export function formatTime(ms) {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
                 : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A random client id for idempotent sends ([A-Za-z0-9._:-], at most 64). */
export function clientId(prefix = "web") {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The live connection: /api/ws?token=..., one JSON event per frame.
 * onEvent(event) gets every event; onState("open"|"closed") tells the page,
 * which catches up over HTTP after each (re)open.  Reconnects with backoff
 * (0.5 s doubling to 15 s) until stop().
 */
export class Live {
  constructor(api, { onEvent, onState }) {
    this.api = api;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.ws = null;
    this.stopped = true;
    this.delay = 500;
    this.timer = null;
    this.pingTimer = null;
  }
  start() {
    this.stopped = false;
    this.connect();
  }
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.close(1000);
      this.onState("closed");
    }
  }
  connect() {
    const token = this.api.token;
    if (this.stopped || !token) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      let event;
      try { event = JSON.parse(e.data); } catch { return; }
      if (event && event.type === "hello") {
        this.delay = 500;
        this.onState("open");
        return;
      }
      if (event && event.type !== "pong") this.onEvent(event);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.onState("closed");
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    });
    // An application ping every 25 s keeps idle proxies from closing the socket.
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping", id: Date.now() }));
    }, 25000);
  }
  /** Close the socket as a network drop would (tests and "reconnect now"). */
  drop() {
    if (this.ws) this.ws.close(4000, "dropped");
  }
}
