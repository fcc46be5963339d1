// pages/posts.js - analysts: open any post by id (from a case, an alert, a
// suggestion's example) with its labels, signals and correction history, and
// correct its labels; export the corrections as training data for
// `socialbank train`.

import { fill, h, put } from "../lib.js";
import { heading, table, unavailable, when } from "../ui.js";
import { postCard } from "./postview.js";

export async function render(ctx, root) {
  const box = h("div");
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); open(e.currentTarget.elements.id.value.trim()); } },
    h("label", null, "Post id", h("input", { name: "id", inputmode: "numeric", maxlength: 20, size: 10, required: true })),
    h("button", { type: "submit", class: "secondary" }, "Open"),
    h("a", { href: "/api/listening/corrections/export", class: "small", onclick: exportCorrections }, "Export corrections (JSONL)"));

  async function exportCorrections(e) {
    e.preventDefault();
    const res = await fetch("/api/listening/corrections/export", { headers: { Authorization: `Bearer ${ctx.api.token}` } });
    if (!res.ok) return ctx.toast(`export failed (${res.status})`, "alert");
    const blob = await res.blob();
    const a = h("a", { href: URL.createObjectURL(blob), download: "corrections.jsonl" });
    a.click();
    URL.revokeObjectURL(a.href);
  }

  function draw(p) {
    fill(box, postCard(ctx, p, draw),
      p.case_id ? h("p", { class: "small" }, `In case #${p.case_id}.`) : null,
      p.model_labels ? h("p", { class: "small muted" }, `Model (${p.model_labels.model}): ${p.model_labels.sentiment} · ${p.model_labels.kind} · ${p.model_labels.topic}`) : null,
      h("h3", null, "Corrections"),
      table([
        { title: "Head", cell: (c) => c.head },
        { title: "Label", cell: (c) => c.label },
        { title: "By", cell: (c) => c.corrected_by },
        { title: "When", cell: (c) => when(c.corrected_at_ms) },
      ], p.corrections || [], { empty: "None: the model's labels stand." }));
  }

  async function open(id) {
    if (!/^\d+$/.test(id)) return fill(box, h("p", { class: "error" }, "a post id is a number"));
    const r = await ctx.api.get(`/api/listening/posts/${id}`);
    if (r.status !== 200) return fill(box, unavailable(r, `Post ${id}`));
    draw(r.data);
  }
  put(root, heading("Posts and corrections"), form, box);
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  if (params.get("id")) open(params.get("id"));
}
