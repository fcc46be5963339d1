// pages/cui.js - the localised building blocks of the console's pages: the
// same shapes as ui.js (tables, status lines, selects, chips) but every word
// from the catalogs, dates through i18n.js (Jalali in Persian), vocabulary
// values (states, priorities, labels, sources) by their "v.<value>" keys and
// names or handles isolated with <bdi>.

import { h } from "../lib.js";
import { bdi, fmtDate, has, t, tError } from "../i18n/i18n.js";
import { statusLine as plainStatusLine, table as plainTable } from "../ui.js";

/** A table: columns = [{title (already translated), cell: (row) => string|Node, class}], rows = objects. */
export function table(columns, rows, { empty, rowAttrs } = {}) {
  return plainTable(columns, rows, { empty: empty || t("common.none_yet"), rowAttrs });
}

/** A status line under a form whose refusals are sentences in the reader's language. */
export function statusLine() {
  return plainStatusLine(tError);
}

/** A vocabulary value in the reader's language ("urgent" -> "فوری"); unknown values as they are. */
export function word(value) {
  if (value === undefined || value === null || value === "") return t("common.none");
  return has(`v.${value}`) ? t(`v.${value}`) : has(`lang.${value}`) ? t(`lang.${value}`) : String(value);
}

/** A <select> of vocabulary values (translated), with "" as "any" when anyLabel is true. */
export function vocabSelect(name, values, current, { any = true, attrs = {} } = {}) {
  const options = (any ? [["", t("common.any")]] : []).concat(values.map((v) => [v, word(v)]));
  return h("select", { name, ...attrs }, options.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(current ?? "") }, label)));
}

/** A chip for a vocabulary value (state, priority, sentiment), coloured by kind. */
export function chip(value, kind = "") {
  if (value === undefined || value === null || value === "") return h("span", { class: "muted" }, t("common.none"));
  return h("span", { class: `chip ${kind} ${kind ? kind + "-" : ""}${String(value).replace(/[^a-z0-9_-]/gi, "_")}`, dataset: { value } }, word(value));
}

/** A date and time in the reader's calendar and digits, the full form in the title. */
export function when(ms) {
  if (!Number.isFinite(ms)) return t("common.none");
  return h("time", { datetime: new Date(ms).toISOString(), title: fmtDate(ms) }, fmtDate(ms));
}

/** A handle or name inside text of either direction. */
export function who(text) {
  return bdi(text || t("common.none"));
}

/** A section header with an optional actions area. */
export function heading(title, ...actions) {
  return h("div", { class: "page-head" }, h("h2", null, title), h("div", { class: "actions" }, actions));
}

/** What a list route's refusal means to the reader. */
export function unavailable(r) {
  if (r.status === 403) return h("p", { class: "error" }, t("console.forbidden"));
  return h("p", { class: "error" }, tError(r));
}
