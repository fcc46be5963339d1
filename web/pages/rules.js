// pages/rules.js - admins: the routing rules that open cases from posts
// (match on kind, sentiment, topic, risk, source and a least model
// confidence; route to one or several departments with a priority), turned
// on or off, added and deleted.  A refused rule names its field: the message
// says which one and the field is outlined.

import { fill, h, put } from "../lib.js";
import { foldDigits, t, tError } from "../i18n/i18n.js";
import { chip, heading, statusLine, table, unavailable, vocabSelect, word } from "./cui.js";
import { HEADS, PRIORITIES, RISKS, SOURCES } from "./labels.js";

const MATCH = { kind: HEADS.kind, sentiment: HEADS.sentiment, topic: HEADS.topic, risk: RISKS, source: SOURCES };
const MATCH_LABEL = { kind: "stream.kind", sentiment: "stream.sentiment", topic: "stream.topic", risk: "stream.risk", source: "stream.source" };

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const form = h("form", { class: "inline-form", dataset: { form: "rule" }, onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      for (const el of f.querySelectorAll(".field-error")) el.classList.remove("field-error");
      const rule = { name: f.elements.name.value.trim(), priority: f.elements.priority.value,
                     departments: f.elements.departments.value.split(/[,،]/).map((d) => d.trim()).filter(Boolean) };
      for (const k of Object.keys(MATCH)) if (f.elements[k].value) rule[k] = f.elements[k].value;
      const pm = foldDigits(f.elements.min_permille.value).trim();
      if (pm) rule.min_permille = Number(pm);
      const r = await ctx.api.post("/api/listening/rules", rule);
      if (r.status === 201) {
        status.ok(t("rules.added"));
        f.reset();
        load();
        return;
      }
      const field = r.data && r.data.error && r.data.error.field;
      if (field) {
        const name = field.startsWith("departments") ? "departments" : field;
        const label = t(name === "departments" ? "rules.departments" : name === "priority" ? "rules.priority" : MATCH_LABEL[name] || "rules.name");
        status.fail(t("rules.field_error", { field: label, message: r.data.error.message }));
        if (f.elements[name]) {
          f.elements[name].classList.add("field-error");
          f.elements[name].setAttribute("aria-invalid", "true");
          f.elements[name].focus();
        }
      } else status.fail(tError(r));
    } },
    h("label", null, t("rules.name"), h("input", { name: "name", required: true, maxlength: 64, size: 14, dir: "auto" })),
    Object.entries(MATCH).map(([k, values]) => h("label", null, t(MATCH_LABEL[k]), vocabSelect(k, values, ""))),
    h("label", null, t("rules.min"), h("input", { name: "min_permille", inputmode: "numeric", size: 5, maxlength: 4 })),
    h("label", null, t("rules.departments"), h("input", { name: "departments", required: true, maxlength: 256, placeholder: t("rules.departments_hint"), size: 20, dir: "ltr" })),
    h("label", null, t("rules.priority"), vocabSelect("priority", PRIORITIES, "normal", { any: false })),
    h("button", { type: "submit" }, t("rules.add")));

  async function change(method, path, body) {
    const r = await ctx.api.call(method, path, body);
    if (r.ok) { status.ok(t("common.saved")); load(); } else status.fail(r);
  }

  async function load() {
    const r = await ctx.api.get("/api/listening/rules");
    if (r.status !== 200) return fill(box, unavailable(r));
    fill(box, table([
      { title: t("rules.name"), cell: (x) => h("bdi", null, x.name ?? "") },
      { title: t("rules.conditions"), cell: (x) => {
          const parts = Object.keys(MATCH).filter((k) => x[k]).map((k) => h("span", { class: "chip" }, t(MATCH_LABEL[k]), ": ", word(x[k])));
          return parts.length ? h("span", { class: "labels" }, parts) : h("span", { class: "muted" }, t("rules.anything"));
        } },
      { title: t("rules.departments"), cell: (x) => h("span", { dir: "ltr" }, (x.departments || []).join(", ")) },
      { title: t("rules.priority"), cell: (x) => chip(x.priority, "priority") },
      { title: t("rules.enabled"), cell: (x) => h("input", { type: "checkbox", checked: x.enabled !== false, "aria-label": t("rules.toggle"),
          onchange: (e) => change("PATCH", `/api/listening/rules/${x.id}`, { enabled: e.target.checked }) }) },
      { title: t("common.delete"), cell: (x) => h("button", { type: "button", class: "link", onclick: () => change("DELETE", `/api/listening/rules/${x.id}`) }, t("common.delete")) },
    ], r.data.rules || []));
  }
  put(root, heading(t("page.rules")), box, h("h3", null, t("rules.add")), form, status.el);
  await load();
}
