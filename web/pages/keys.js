// pages/keys.js - admins: the API keys that authenticate POST /api/ingest,
// each allowed a set of sources.  A new key's secret is shown once, at
// creation (only its hash is stored); keys can be revoked.

import { fill, h, put } from "../lib.js";
import { heading, statusLine, table, unavailable, when } from "../ui.js";
import { SOURCES } from "./labels.js";

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const secret = h("div", { class: "secret" });
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const sources = [...f.querySelectorAll("input[name=source]:checked")].map((x) => x.value);
      const r = await ctx.api.post("/api/listening/api-keys", { name: f.elements.name.value.trim(), sources });
      if (r.status === 201) {
        status.ok("Key created. Copy it now: it is not shown again.");
        fill(secret, h("code", { class: "key" }, r.data.key));
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, "Name", h("input", { name: "name", required: true, maxlength: 64, placeholder: "twitter export" })),
    h("fieldset", { class: "sources" }, h("legend", null, "Sources"),
      SOURCES.map((s) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "source", value: s }), ` ${s}`))),
    h("button", { type: "submit" }, "Create key"));

  async function load() {
    const r = await ctx.api.get("/api/listening/api-keys");
    if (r.status !== 200) return fill(box, unavailable(r, "API keys"));
    fill(box, table([
      { title: "#", cell: (k) => k.id, class: "num" },
      { title: "Name", cell: (k) => k.name },
      { title: "Sources", cell: (k) => (k.sources || []).join(", ") },
      { title: "Created", cell: (k) => `${when(k.created_at_ms)} by ${k.created_by}` },
      { title: "Last used", cell: (k) => (k.last_used_at_ms ? when(k.last_used_at_ms) : "never") },
      { title: "", cell: (k) => (k.revoked_at_ms ? `revoked ${when(k.revoked_at_ms)}` : h("button", { type: "button", class: "link", onclick: async () => {
          if (!confirm(`Revoke key ${k.id} (${k.name})?`)) return;
          const d = await ctx.api.del(`/api/listening/api-keys/${k.id}`);
          if (d.ok) { status.ok(`Key ${k.id} revoked.`); load(); } else status.fail(d);
        } }, "Revoke")) },
    ], r.data.keys || [], { empty: "No keys: nothing can post to /api/ingest." }));
  }
  put(root, heading("Ingest API keys"), box, h("h3", null, "New key"), form, status.el, secret);
  await load();
}
