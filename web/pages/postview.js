// pages/postview.js - one listening post as the console shows it: source,
// author and reach, the (redacted) text, its labels with the model's
// confidence, risks, life events and competitors, and, for analysts and
// admins, selects that correct a label (POST .../posts/:id/corrections; the
// correction wins everywhere and is kept with who made it).

import { h } from "../lib.js";
import { chip, when } from "../ui.js";
import { HEADS } from "./labels.js";

export function canCorrect(role) {
  return role === "analyst" || role === "admin";
}

function signals(p) {
  const parts = [];
  for (const [name, list] of [["risk", p.risks], ["life event", p.life_events], ["competitor", p.competitors]])
    for (const s of list || []) parts.push(chip(`${name}: ${s.name}`, name === "risk" ? "priority-urgent" : ""), " ");
  return parts.length ? h("div", { class: "small" }, parts) : null;
}

/** A post card; onCorrected(post) is called with the post as the server now has it. */
export function postCard(ctx, p, onCorrected) {
  const labels = p.labels || {};
  const status = h("span", { class: "small form-status" });
  const corrected = new Set((p.corrections || []).map((c) => c.head));
  const labelControl = (head) => {
    const value = labels[head];
    const permille = labels[`${head}_permille`];
    if (!canCorrect(ctx.me.role)) return [chip(value, head), permille !== undefined ? h("span", { class: "small muted" }, ` ${permille / 10}%`) : null, " "];
    const options = HEADS[head].includes(value) ? HEADS[head] : [value ?? "", ...HEADS[head]];
    return h("label", { class: `label-select ${corrected.has(head) ? "corrected" : ""}`, title: corrected.has(head) ? "corrected by an analyst" : "model label" },
      head,
      h("select", { name: head, dataset: { head }, "aria-label": `${head} of post ${p.id}`, onchange: async (e) => {
          const r = await ctx.api.post(`/api/listening/posts/${p.id}/corrections`, { head, label: e.target.value });
          if (r.status === 201) {
            status.className = "small form-status ok";
            status.textContent = `${head} corrected to ${e.target.value}`;
            if (onCorrected) onCorrected(r.data);
          } else {
            status.className = "small form-status error";
            status.textContent = r.data && r.data.error ? r.data.error.message : `failed (${r.status})`;
          }
        } }, options.map((o) => h("option", { value: o, selected: o === value }, o))),
      permille !== undefined && !corrected.has(head) ? h("span", { class: "small muted" }, ` ${permille / 10}%`) : null);
  };
  return h("div", { class: "post", dataset: { postId: p.id } },
    h("div", { class: "small muted" }, `#${p.id} · ${p.source} · ${p.author}`,
      Number.isSafeInteger(p.author_reach) ? ` (${p.author_reach.toLocaleString("en-US")} followers)` : "",
      ` · ${when(p.posted_at_ms)}`, p.redactions ? ` · ${p.redactions} redacted` : ""),
    h("div", { class: "text", dir: "auto" }, p.text ?? ""),
    h("div", { class: "labels" }, labels.lang ? [chip(labels.lang), " "] : null, ["sentiment", "kind", "topic"].map(labelControl), status),
    signals(p));
}
