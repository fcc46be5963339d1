// pages/posts.js - analysts: recent posts with their labels, and corrections:
// an analyst sets any label (sentiment, kind, topic); the correction is kept
// with who made it and wins over the model's label everywhere.

import { h } from "../lib.js";
import { chip, heading, qs, select, statusLine, table, unavailable, when } from "../ui.js";

const HEADS = {
  sentiment: ["positive", "negative", "neutral"],
  kind: ["complaint", "suggestion", "question", "praise", "other"],
  topic: ["cards", "transfers", "fees", "loans", "call_centre", "app_online", "branch", "fraud_security", "staff", "other"],
};

export async function render(ctx, root) {
  const view = { source: "", sentiment: "", topic: "", q: "" };
  const box = h("div");
  const status = statusLine();
  const filters = h("form", { class: "filters", onsubmit: (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      view.source = f.elements.source.value.trim();
      view.sentiment = f.elements.sentiment.value;
      view.topic = f.elements.topic.value;
      view.q = f.elements.q.value.trim();
      load();
    } },
    h("label", null, "Source", h("input", { name: "source", size: 10, maxlength: 32 })),
    h("label", null, "Sentiment", select("sentiment", [["", "any"], ...HEADS.sentiment], "")),
    h("label", null, "Topic", select("topic", [["", "any"], ...HEADS.topic], "")),
    h("label", null, "Text", h("input", { name: "q", size: 16, maxlength: 128 })),
    h("button", { type: "submit", class: "secondary" }, "Search"));

  async function correct(post, head, label) {
    const r = await ctx.api.post(`/api/listening/posts/${post.id}/corrections`, { head, label });
    if (r.ok) {
      status.ok(`Post ${post.id}: ${head} is now ${label}.`);
      post[head] = label;
      (post.corrected ||= {})[head] = true;
    } else status.fail(r);
  }

  const labelCell = (head) => (p) => select(`${head}-${p.id}`, HEADS[head].includes(p[head]) ? HEADS[head] : [p[head] ?? "", ...HEADS[head]], p[head], {
    class: p.corrections && p.corrections[head] ? "corrected" : "",
    "aria-label": `${head} of post ${p.id}`,
    onchange: (e) => correct(p, head, e.target.value),
  });

  async function load() {
    const r = await ctx.api.get(`/api/listening/posts${qs({ ...view, limit: 100 })}`);
    if (r.status !== 200) return box.replaceChildren(unavailable(r, "Posts"));
    box.replaceChildren(table([
      { title: "#", cell: (p) => p.id, class: "num" },
      { title: "When", cell: (p) => when(p.posted_at_ms ?? p.created_at_ms) },
      { title: "Source", cell: (p) => `${p.source} · ${p.author ?? ""}` },
      { title: "Text", cell: (p) => h("span", { dir: "auto" }, p.text ?? "") },
      { title: "Lang", cell: (p) => chip(p.lang) },
      { title: "Sentiment", cell: labelCell("sentiment") },
      { title: "Kind", cell: labelCell("kind") },
      { title: "Topic", cell: labelCell("topic") },
    ], r.data.posts || [], { empty: "No posts match.", rowAttrs: (p) => ({ dataset: { postId: p.id } }) }));
  }
  root.append(heading("Posts and corrections"), filters, status.el, box);
  await load();
}
