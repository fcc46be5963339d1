// pages/channel.js - marketers and admins: publish on the bank's channel
// (POST /api/channel/posts) and watch its posts with live counts of likes,
// comments and shares (post.counts events), comments included.

import { fill, h, put } from "../lib.js";
import { heading, statusLine, when } from "../ui.js";

export async function render(ctx, root) {
  const posts = new Map(); // seq -> message
  let chatId = null;
  const list = h("ol", { class: "post-list" });
  const status = statusLine();
  const form = h("form", { onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const r = await ctx.api.post("/api/channel/posts", { text: f.elements.text.value });
      if (r.status === 201) {
        posts.set(r.data.message.seq, r.data.message);
        f.reset();
        status.ok("Published.");
        draw();
      } else status.fail(r);
    } },
    h("label", null, "New post", h("textarea", { name: "text", rows: 3, required: true, maxlength: 16384, dir: "auto" })),
    h("button", { type: "submit" }, "Publish"));

  function draw() {
    const all = [...posts.values()];
    const comments = (seq) => all.filter((m) => m.kind === "comment" && m.reply_to_seq === seq).sort((a, b) => a.seq - b.seq);
    fill(list, ...all.filter((m) => m.kind === "post").sort((a, b) => b.seq - a.seq).map((p) =>
      h("li", { class: "post card", dataset: { seq: p.seq } },
        h("div", { class: "text", dir: "auto" }, p.deleted ? "post deleted" : p.text ?? ""),
        h("div", { class: "meta small muted" }, when(p.created_at_ms)),
        h("div", { class: "counts" },
          h("span", { class: "likes" }, `♥ ${p.likes ?? 0}`), h("span", null, `💬 ${p.comments ?? 0}`), h("span", null, `↗ ${p.shares ?? 0}`)),
        h("ol", { class: "comments" }, comments(p.seq).map((c) =>
          h("li", { class: "comment" }, h("span", { class: "muted" }, `user ${c.sender_id}: `), h("span", { dir: "auto" }, c.text ?? "")))))));
  }

  async function load() {
    const sub = await ctx.api.post("/api/channel/subscribe");
    if (sub.status !== 200) return status.fail(sub);
    chatId = sub.data.chat_id;
    const r = await ctx.api.get("/api/channel/posts?limit=100");
    if (r.status !== 200) return status.fail(r);
    for (const m of r.data.messages) posts.set(m.seq, m);
    draw();
  }

  ctx.onLive((ev) => {
    if (ev.type === "live.open") return load();
    if (ev.chat_id === chatId && ev.message) {
      const had = posts.get(ev.message.seq);
      if (!had || had.rev <= ev.message.rev) posts.set(ev.message.seq, ev.message);
      draw();
    }
  });
  put(root, heading("The bank's channel"), form, status.el, list);
  await load();
}
