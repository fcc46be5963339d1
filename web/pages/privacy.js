// pages/privacy.js - admins: what the bank holds about people and who looked.
// Erasure of an author on a source (a dialog asks the admin to type the
// author again before anything is deleted; the server erases in one
// transaction and writes an audit entry), the consents that link handles to
// customers, the leads those consents allow, and the audit log of every
// staff view of a customer's data.

import { fill, h, put } from "../lib.js";
import { t } from "../i18n/i18n.js";
import { heading, statusLine, table, unavailable, vocabSelect, when, who, word } from "./cui.js";
import { SOURCES } from "./labels.js";

export async function render(ctx, root) {
  const status = statusLine();
  const consentsBox = h("div");
  const leadsBox = h("div");
  const auditBox = h("div");

  const confirmInput = h("input", { name: "confirm", required: true, maxlength: 128, dir: "auto", autocomplete: "off" });
  const confirmText = h("p");
  const dialog = h("dialog", { "aria-labelledby": "erase-confirm-title" },
    h("form", { method: "dialog", class: "erase-confirm" },
      h("h3", { id: "erase-confirm-title" }, t("privacy.erase.title")),
      confirmText,
      h("label", null, t("privacy.erase.confirm_label"), confirmInput),
      h("div", { class: "actions" },
        h("button", { type: "submit", value: "erase", class: "danger" }, t("privacy.erase.confirm_button")),
        h("button", { type: "submit", value: "cancel", class: "secondary", formnovalidate: true }, t("common.cancel")))));

  const eraseForm = h("form", { class: "inline-form", dataset: { form: "erase" }, onsubmit: (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const author = f.elements.author.value.trim();
      const source = f.elements.source.value;
      if (!author || !source) return;
      fill(confirmText, t("privacy.erase.confirm", { author, source: word(source) }));
      confirmInput.value = "";
      dialog.returnValue = "";
      dialog.onclose = async () => {
        if (dialog.returnValue !== "erase") return;
        if (confirmInput.value.trim() !== author) return status.fail(t("privacy.erase.mismatch"));
        const r = await ctx.api.post("/api/listening/erase", { source, author });
        if (!r.ok) return status.fail(r);
        status.ok(t("privacy.erase.done", { posts: r.data.posts, cases: r.data.cases, consents: r.data.consents }));
        f.reset();
        loadAll();
      };
      dialog.showModal();
    } },
    h("label", null, t("stream.source"), vocabSelect("source", SOURCES, "twitter", { any: false })),
    h("label", null, t("privacy.erase.author"), h("input", { name: "author", required: true, maxlength: 128, dir: "auto" })),
    h("button", { type: "submit", class: "danger" }, t("privacy.erase.button")));

  async function loadAll() {
    const [c, l, a] = await Promise.all([ctx.api.get("/api/listening/consents"), ctx.api.get("/api/listening/leads?limit=50"),
                                         ctx.api.get("/api/listening/audit?limit=50")]);
    fill(consentsBox, c.status !== 200 ? unavailable(c) : table([
      { title: t("privacy.col.customer"), cell: (x) => x.customer_id, class: "num" },
      { title: t("stream.source"), cell: (x) => word(x.source) },
      { title: t("privacy.col.handle"), cell: (x) => who(x.handle) },
      { title: t("privacy.col.since"), cell: (x) => when(x.consented_at_ms) },
      { title: t("privacy.col.withdrawn"), cell: (x) => (x.withdrawn_at_ms ? when(x.withdrawn_at_ms) : t("common.none")) },
    ], c.data.consents));
    fill(leadsBox, l.status !== 200 ? unavailable(l) : table([
      { title: t("privacy.col.customer"), cell: (x) => x.customer_id, class: "num" },
      { title: t("privacy.col.life_event"), cell: (x) => x.life_event },
      { title: t("privacy.col.offer"), cell: (x) => x.offer },
      { title: t("stream.col.text"), cell: (x) => h("div", { class: "text", dir: "auto" }, x.text || "") },
      { title: t("stream.col.when"), cell: (x) => when(x.created_at_ms) },
    ], l.data.leads));
    fill(auditBox, a.status !== 200 ? unavailable(a) : table([
      { title: t("privacy.col.when"), cell: (x) => when(x.at_ms) },
      { title: t("privacy.col.actor"), cell: (x) => who(x.actor) },
      { title: t("privacy.col.action"), cell: (x) => t(`privacy.action.${x.action}`) },
      { title: t("privacy.col.subject"), cell: (x) => h("span", null, who(x.author), " · ", word(x.source),
          x.customer_id ? h("span", null, " · ", t("privacy.col.customer"), " ", x.customer_id) : null,
          x.case_id ? h("span", null, " · ", t("inbox.case_title", { id: x.case_id })) : null) },
    ], a.data.entries));
  }

  put(root, heading(t("page.privacy")),
    h("section", { class: "card" }, h("h3", null, t("privacy.erase.title")), h("p", { class: "small" }, t("privacy.erase.help")), eraseForm, status.el),
    dialog,
    h("h3", null, t("privacy.audit")), auditBox,
    h("h3", null, t("privacy.consents")), consentsBox,
    h("h3", null, t("privacy.leads")), leadsBox);
  await loadAll();
}
