// pages/keys.js - admins: the per-source API keys that authenticate
// POST /api/ingest.  A new key's secret is shown once, at creation; keys can
// be revoked.

import { h } from "../lib.js";
import { heading, statusLine, table, unavailable, when } from "../ui.js";

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const secret = h("div", { class: "secret" });
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const r = await ctx.api.post("/api/admin/ingest-keys", { source: f.elements.source.value.trim(), name: f.elements.name.value.trim() || undefined });
      if (r.ok) {
        status.ok("Key created. Copy it now: it is not shown again.");
        secret.replaceChildren(h("code", { class: "key" }, r.data.key ?? r.data.token ?? ""));
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, "Source", h("input", { name: "source", required: true, maxlength: 32, placeholder: "twitter" })),
    h("label", null, "Name", h("input", { name: "name", maxlength: 64, placeholder: "export job" })),
    h("button", { type: "submit" }, "Create key"));

  async function load() {
    const r = await ctx.api.get("/api/admin/ingest-keys");
    if (r.status !== 200) return box.replaceChildren(unavailable(r, "API keys"));
    box.replaceChildren(table([
      { title: "#", cell: (k) => k.id, class: "num" },
      { title: "Source", cell: (k) => k.source },
      { title: "Name", cell: (k) => k.name ?? "" },
      { title: "Created", cell: (k) => when(k.created_at_ms) },
      { title: "Last used", cell: (k) => when(k.last_used_at_ms) },
      { title: "", cell: (k) => (k.revoked_at_ms ? `revoked ${when(k.revoked_at_ms)}` : h("button", { type: "button", class: "link", onclick: async () => {
          if (!confirm(`Revoke key ${k.id}?`)) return;
          const d = await ctx.api.del(`/api/admin/ingest-keys/${k.id}`);
          if (d.ok) { status.ok(`Key ${k.id} revoked.`); load(); } else status.fail(d);
        } }, "Revoke")) },
    ], r.data.keys || [], { empty: "No keys: nothing can post to /api/ingest." }));
  }
  root.append(heading("Ingest API keys"), box, h("h3", null, "New key"), form, status.el, secret);
  await load();
}
