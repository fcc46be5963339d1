// pages/suggestions.js - analysts: suggestions and complaints grouped by
// topic and key phrase, largest first, each with its count and examples, so
// "the phone menu is cumbersome" said a hundred ways is one line.

import { fill, h, put } from "../lib.js";
import { chip, heading, qs, select, table, unavailable } from "../ui.js";

export async function render(ctx, root) {
  const view = { days: "30", min: "2" };
  const box = h("div");
  const filters = h("form", { class: "filters", onchange: () => { view.days = filters.elements.days.value; view.min = filters.elements.min.value; load(); },
                              onsubmit: (e) => { e.preventDefault(); load(); } },
    h("label", null, "Period", select("days", [["1", "last day"], ["7", "last 7 days"], ["30", "last 30 days"], ["90", "last 90 days"]], view.days)),
    h("label", null, "At least", select("min", [["1", "1 post"], ["2", "2 posts"], ["5", "5 posts"], ["10", "10 posts"]], view.min)),
    h("button", { type: "submit", class: "secondary" }, "Refresh"));

  async function load() {
    const to = Date.now();
    const r = await ctx.api.get(`/api/listening/suggestions${qs({ from_ms: to - Number(view.days) * 86400000, to_ms: to, min_count: view.min })}`);
    if (r.status !== 200) return fill(box, unavailable(r, "Suggestions"));
    const groups = r.data.groups || [];
    fill(box, table([
      { title: "Posts", cell: (g) => g.count, class: "num" },
      { title: "Kind", cell: (g) => chip(g.kind) },
      { title: "Topic", cell: (g) => chip(g.topic) },
      { title: "Key phrase", cell: (g) => h("strong", { dir: "auto" }, g.phrase ?? "") },
      { title: "Examples", cell: (g) => h("ul", { class: "examples" }, (g.examples || []).map((e) =>
          h("li", null, h("a", { href: `#posts?id=${e.post_id}`, class: "muted" }, `#${e.post_id}`), " ", h("span", { dir: "auto" }, e.text ?? "")))) },
    ], groups, { empty: "No groups in this period." }));
  }
  put(root, heading("Suggestions and complaints"), filters, box);
  await load();
}
