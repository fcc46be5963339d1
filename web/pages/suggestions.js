// pages/suggestions.js - analysts and marketers: suggestions and complaints
// grouped by kind, topic and idea, largest first.  The server groups the same
// idea whatever the language (a multilingual concept lexicon, then key
// phrases), so each line shows its languages and examples in several of them.

import { fill, h, put } from "../lib.js";
import { fmtNumber, has, t, tn } from "../i18n/i18n.js";
import { chip, heading, table, unavailable, word } from "./cui.js";

export async function render(ctx, root) {
  const view = { days: "30", min: "2" };
  const box = h("div");
  const option = (value, label, current) => h("option", { value, selected: value === current }, label);
  const filters = h("form", { class: "filters", onchange: () => { view.days = filters.elements.days.value; view.min = filters.elements.min.value; load(); },
                              onsubmit: (e) => { e.preventDefault(); load(); } });
  const drawFilters = () => fill(filters,
    h("label", null, t("sugg.period"), h("select", { name: "days" }, ["1", "7", "30", "90"].map((d) => option(d, tn("sugg.days", Number(d)), view.days)))),
    h("label", null, t("sugg.min"), h("select", { name: "min" }, ["1", "2", "5", "10"].map((m) => option(m, tn("sugg.posts_min", Number(m)), view.min)))));

  async function load() {
    const to = Date.now();
    const q = new URLSearchParams({ from_ms: String(to - Number(view.days) * 86400000), to_ms: String(to), min_count: view.min });
    const r = await ctx.api.get(`/api/listening/suggestions?${q}`);
    if (r.status !== 200) return fill(box, unavailable(r));
    fill(box, table([
      { title: t("sugg.col.posts"), cell: (g) => fmtNumber(g.count), class: "num" },
      { title: t("stream.kind"), cell: (g) => chip(g.kind) },
      { title: t("stream.topic"), cell: (g) => chip(g.topic) },
      { title: t("sugg.col.idea"), cell: (g) => h("strong", { dir: "auto", dataset: { concept: g.concept || "" } },
          g.concept && has(`concept.${g.concept}`) ? t(`concept.${g.concept}`) : g.phrase ?? "") },
      { title: t("sugg.col.langs"), cell: (g) => (g.langs || []).map(word).join("، ") },
      { title: t("sugg.col.examples"), cell: (g) => h("ul", { class: "examples" }, (g.examples || []).map((e) =>
          h("li", null, h("span", { dir: "auto" }, e.text ?? "")))) },
    ], r.data.groups || [], { empty: t("sugg.empty") }));
  }
  drawFilters();
  put(root, heading(t("page.suggestions")), h("p", { class: "small muted" }, t("sugg.help")), filters, box);
  await load();
}
