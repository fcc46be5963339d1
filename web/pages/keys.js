// pages/keys.js - admins: the API keys that authenticate POST /api/ingest,
// each allowed a set of sources.  A new key's secret is shown once, at
// creation (only its hash is stored); keys can be revoked (a confirmation
// names the key first).

import { fill, h, put } from "../lib.js";
import { t } from "../i18n/i18n.js";
import { heading, statusLine, table, unavailable, when, who, word } from "./cui.js";
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
        status.ok(t("keys.created"));
        fill(secret, h("code", { class: "key", dir: "ltr" }, r.data.key));
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, t("keys.name"), h("input", { name: "name", required: true, maxlength: 64, placeholder: t("keys.name_hint"), dir: "auto" })),
    h("fieldset", { class: "sources" }, h("legend", null, t("keys.sources")),
      SOURCES.map((s) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "source", value: s }), word(s)))),
    h("button", { type: "submit" }, t("keys.create")));

  async function load() {
    const r = await ctx.api.get("/api/listening/api-keys");
    if (r.status !== 200) return fill(box, unavailable(r));
    fill(box, table([
      { title: t("keys.name"), cell: (k) => who(k.name) },
      { title: t("keys.sources"), cell: (k) => (k.sources || []).map(word).join("، ") },
      { title: t("keys.col.created"), cell: (k) => h("span", null, when(k.created_at_ms), " · ", who(k.created_by)) },
      { title: t("keys.col.used"), cell: (k) => (k.last_used_at_ms ? when(k.last_used_at_ms) : t("keys.never")) },
      { title: t("keys.revoke"), cell: (k) => (k.revoked_at_ms ? h("span", null, t("keys.revoked", { when: "" }), when(k.revoked_at_ms)) : h("button", { type: "button", class: "link", onclick: async () => {
          if (!confirm(t("keys.revoke_confirm", { name: k.name }))) return;
          const d = await ctx.api.del(`/api/listening/api-keys/${k.id}`);
          if (d.ok) { status.ok(t("common.saved")); load(); } else status.fail(d);
        } }, t("keys.revoke"))) },
    ], r.data.keys || [], { empty: t("keys.empty") }));
  }
  put(root, heading(t("page.keys")), box, h("h3", null, t("keys.new")), form, status.el, secret);
  await load();
}
