// pages/stream.js - analysts (and marketers, admins): the post stream.
// Full-text search in any language (the server normalises Persian and
// Cyrillic the same way for the index and the query), filters on language,
// sentiment, kind, topic, source, risk, competitor and a time range, pages
// by the server's cursor, a CSV export of the same filter (downloaded with
// the bearer token, saved as a file), and the analyst's saved views.

import { fill, h, put } from "../lib.js";
import { foldDigits, t, tn } from "../i18n/i18n.js";
import { chip, heading, statusLine, table, unavailable, vocabSelect, when, who, word } from "./cui.js";
import { HEADS, RISKS, SOURCES } from "./labels.js";

const LANGS = ["fa", "uk", "ru", "en", "ar", "other"];
const FIELDS = ["q", "lang", "sentiment", "kind", "topic", "source", "risk", "competitor"];

/** A query string for the stream routes from a filter object (empty values left out). */
export function streamQuery(filter, extra = {}) {
  const q = new URLSearchParams();
  for (const k of FIELDS) if (filter[k]) q.set(k, filter[k]);
  if (filter.from_ms) q.set("from_ms", String(filter.from_ms));
  if (filter.to_ms) q.set("to_ms", String(filter.to_ms));
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** "2026-11-22" (ASCII or Persian digits) -> ms at 00:00 UTC, or 0. */
function dayMs(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(foldDigits(text || "").trim());
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : 0;
}

export async function render(ctx, root) {
  const filter = {};
  let posts = [];
  let cursor = null;
  const status = statusLine();
  const listBox = h("div", { class: "stream-list" });
  const more = h("button", { type: "button", class: "link", hidden: true, onclick: () => load(true) }, t("stream.more"));
  const viewsBox = h("div", { class: "views" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); read(); load(false); } });

  function drawForm() {
    fill(form,
      h("label", null, t("stream.search"), h("input", { type: "search", name: "q", value: filter.q || "", maxlength: 256, dir: "auto", placeholder: t("stream.search_placeholder") })),
      h("label", null, t("stream.lang"), vocabSelect("lang", LANGS, filter.lang)),
      h("label", null, t("stream.sentiment"), vocabSelect("sentiment", HEADS.sentiment, filter.sentiment)),
      h("label", null, t("stream.kind"), vocabSelect("kind", HEADS.kind, filter.kind)),
      h("label", null, t("stream.topic"), vocabSelect("topic", HEADS.topic, filter.topic)),
      h("label", null, t("stream.source"), vocabSelect("source", SOURCES, filter.source)),
      h("label", null, t("stream.risk"), vocabSelect("risk", RISKS, filter.risk)),
      h("label", null, t("stream.competitor"), h("input", { name: "competitor", value: filter.competitor || "", maxlength: 64, size: 10, dir: "auto" })),
      h("label", null, t("stream.from"), h("input", { name: "from", type: "date", value: filter.from_text || "" })),
      h("label", null, t("stream.to"), h("input", { name: "to", type: "date", value: filter.to_text || "" })),
      h("button", { type: "submit" }, t("stream.search")),
      h("button", { type: "button", class: "secondary", dataset: { action: "export" }, onclick: exportCsv }, t("stream.export")));
  }

  function read() {
    const e = form.elements;
    for (const k of FIELDS) filter[k] = (e[k].value || "").trim();
    filter.from_text = e.from.value;
    filter.to_text = e.to.value;
    filter.from_ms = dayMs(e.from.value);
    filter.to_ms = dayMs(e.to.value) ? dayMs(e.to.value) + 86400000 : 0;
  }

  async function load(append) {
    const r = await ctx.api.get(`/api/listening/stream${streamQuery(filter, { cursor: append ? cursor : "", limit: 50 })}`);
    if (r.status !== 200) {
      status.fail(r);
      markField(r);
      return;
    }
    status.clear();
    posts = append ? posts.concat(r.data.posts) : r.data.posts;
    cursor = r.data.next_cursor;
    more.hidden = cursor === null || cursor === undefined;
    fill(listBox, table([
      { title: t("stream.col.when"), cell: (p) => when(p.posted_at_ms) },
      { title: t("stream.col.author"), cell: (p) => h("div", null, who(p.author), h("div", { class: "small muted" }, word(p.source), " · ", word(p.lang))) },
      { title: t("stream.col.text"), cell: (p) => h("div", null, h("div", { class: "text", dir: "auto" }, p.text || ""),
          p.case_id ? h("a", { class: "small", href: "#inbox" }, t("stream.case", { id: p.case_id })) : null) },
      { title: t("stream.col.labels"), cell: (p) => h("div", { class: "labels" }, chip(p.sentiment, "sentiment"), chip(p.kind), chip(p.topic),
          (p.risks || []).map((x) => chip(x, "risk")), (p.competitors || []).map((x) => h("span", { class: "chip" }, x))) },
    ], posts, { empty: t("stream.empty") }));
  }

  function markField(r) {
    for (const el of form.querySelectorAll(".field-error")) el.classList.remove("field-error");
    const field = r && r.data && r.data.error && r.data.error.field;
    if (field && form.elements[field]) form.elements[field].classList.add("field-error");
  }

  async function exportCsv() {
    read();
    const res = await fetch(`/api/listening/stream.csv${streamQuery(filter)}`, { headers: { Authorization: `Bearer ${ctx.api.token}` } });
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch { /* not JSON */ }
      return status.fail({ status: res.status, data });
    }
    const blob = await res.blob();
    const rows = Number(res.headers.get("x-rows") || 0);
    const a = h("a", { href: URL.createObjectURL(blob), download: "posts.csv", hidden: true });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    status.ok(tn("stream.exported", rows));
  }

  async function loadViews() {
    const r = await ctx.api.get("/api/listening/views");
    if (r.status !== 200) return fill(viewsBox, unavailable(r));
    const save = h("form", { class: "inline-form", onsubmit: async (e) => {
        e.preventDefault();
        read();
        const name = e.currentTarget.elements.name.value.trim();
        if (!name) return;
        const query = {};
        for (const k of FIELDS) if (filter[k]) query[k] = filter[k];
        if (filter.from_ms) query.from_ms = filter.from_ms;
        if (filter.to_ms) query.to_ms = filter.to_ms;
        const s = await ctx.api.post("/api/listening/views", { name, query });
        if (!s.ok) return status.fail(s);
        loadViews();
      } },
      h("label", null, t("stream.view_name"), h("input", { name: "name", maxlength: 64, required: true, dir: "auto" })),
      h("button", { type: "submit", class: "secondary" }, t("stream.view_save")));
    fill(viewsBox, h("h3", null, t("stream.views")),
      r.data.views.length
        ? h("ul", { class: "panel-list" }, r.data.views.map((v) => h("li", null,
            h("button", { type: "button", class: "link", onclick: () => {
              for (const k of FIELDS) filter[k] = v.query[k] || "";
              filter.from_ms = v.query.from_ms || 0;
              filter.to_ms = v.query.to_ms || 0;
              filter.from_text = filter.from_ms ? new Date(filter.from_ms).toISOString().slice(0, 10) : "";
              filter.to_text = filter.to_ms ? new Date(filter.to_ms - 86400000).toISOString().slice(0, 10) : "";
              drawForm();
              load(false);
            } }, t("stream.view_open"), " ", who(v.name)),
            h("button", { type: "button", class: "link", onclick: async () => { await ctx.api.del(`/api/listening/views/${v.id}`); loadViews(); } }, t("common.delete")))))
        : h("p", { class: "muted small" }, t("stream.no_views")),
      save);
  }

  drawForm();
  put(root, heading(t("page.stream")), form, status.el, h("div", { class: "split-wide" }, h("div", null, listBox, more), viewsBox));
  await Promise.all([load(false), loadViews()]);
}
