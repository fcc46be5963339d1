// ui.js - small building blocks of the console's pages: tables, forms whose
// answers show inline, query strings, labels.  All text goes in as text nodes.

import { errorText, h } from "./lib.js";

/** A table: columns = [{title, cell: (row) => string|Node}], rows = objects. */
export function table(columns, rows, { empty = "Nothing here yet.", rowAttrs } = {}) {
  if (!rows || rows.length === 0) return h("p", { class: "muted empty" }, empty);
  return h("table", { class: "grid" },
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c.title)))),
    h("tbody", null, rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : null,
      columns.map((c) => h("td", c.class ? { class: c.class } : null, c.cell(row)))))));
}

/** A status line under a form: ok(text), fail(answer or text), clear(); answers read by describe. */
export function statusLine(describe = errorText) {
  const el = h("p", { class: "small form-status", role: "status" });
  return {
    el,
    ok(text) { el.className = "small form-status ok"; el.textContent = text; },
    fail(r) { el.className = "small form-status error"; el.textContent = typeof r === "string" ? r : describe(r); },
    clear() { el.textContent = ""; },
  };
}

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

/** A <select> of options ([value, label] or value), with the current value chosen. */
export function select(name, options, current, attrs = {}) {
  return h("select", { name, ...attrs }, options.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o === "" ? "any" : o];
    return h("option", { value, selected: String(value) === String(current ?? "") }, label);
  }));
}

/** A labelled chip for a label value (sentiment, priority, state). */
export function chip(value, kind = "") {
  if (value === undefined || value === null || value === "") return h("span", { class: "muted" }, "—");
  return h("span", { class: `chip ${kind} ${kind ? kind + "-" : ""}${String(value).replace(/[^a-z0-9_-]/gi, "_")}` }, String(value));
}

/** A date-time string for milliseconds since the epoch. */
export function when(ms) {
  if (!Number.isFinite(ms)) return "—";
  return new Date(ms).toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** A section header with an optional actions area. */
export function heading(title, ...actions) {
  return h("div", { class: "page-head" }, h("h2", null, title), h("div", { class: "actions" }, actions));
}

/** The answer of a list route when the server refuses or lacks it. */
export function unavailable(r, what) {
  if (r.status === 404) return h("p", { class: "muted" }, `${what}: this server has no such route yet.`);
  if (r.status === 403) return h("p", { class: "error" }, `${what}: your role may not see this.`);
  return h("p", { class: "error" }, `${what}: ${errorText(r)}`);
}
