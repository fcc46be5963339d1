// pages/rules.js - admins: the routing rules that open cases from posts
// (match on kind, sentiment, topic, risk, source and a least model
// confidence; route to one or several departments with a priority), enabled
// or disabled, added and deleted.

import { fill, h, put } from "../lib.js";
import { chip, heading, select, statusLine, table, unavailable } from "../ui.js";
import { HEADS, PRIORITIES, RISKS, SOURCES } from "./labels.js";

const MATCH = { kind: HEADS.kind, sentiment: HEADS.sentiment, topic: HEADS.topic, risk: RISKS, source: SOURCES };

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const rule = { name: f.elements.name.value.trim(), priority: f.elements.priority.value,
                     departments: f.elements.departments.value.split(",").map((d) => d.trim()).filter(Boolean) };
      for (const k of Object.keys(MATCH)) if (f.elements[k].value) rule[k] = f.elements[k].value;
      const pm = f.elements.min_permille.value.trim();
      if (pm) rule.min_permille = Number(pm);
      const r = await ctx.api.post("/api/listening/rules", rule);
      if (r.status === 201) {
        status.ok(`Rule ${r.data.id} added.`);
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, "Name", h("input", { name: "name", required: true, maxlength: 64, size: 14 })),
    Object.entries(MATCH).map(([k, values]) => h("label", null, k, select(k, [["", "any"], ...values], ""))),
    h("label", null, "Min. confidence ‰", h("input", { name: "min_permille", inputmode: "numeric", size: 5, maxlength: 4 })),
    h("label", null, "Departments", h("input", { name: "departments", required: true, maxlength: 256, placeholder: "support, cards", size: 16 })),
    h("label", null, "Priority", select("priority", PRIORITIES, "normal")),
    h("button", { type: "submit" }, "Add rule"));

  async function change(method, path, body, done) {
    const r = await ctx.api.call(method, path, body);
    if (r.ok) { status.ok(done); load(); } else status.fail(r);
  }

  async function load() {
    const r = await ctx.api.get("/api/listening/rules");
    if (r.status !== 200) return fill(box, unavailable(r, "Rules"));
    fill(box, table([
      { title: "#", cell: (x) => x.id, class: "num" },
      { title: "Name", cell: (x) => x.name ?? "" },
      { title: "Matches", cell: (x) => [...Object.keys(MATCH).filter((k) => x[k]).map((k) => `${k}=${x[k]}`),
                                        x.min_permille ? `confidence≥${x.min_permille}‰` : null].filter(Boolean).join(" & ") || "every post" },
      { title: "Departments", cell: (x) => (x.departments || []).join(", ") },
      { title: "Priority", cell: (x) => chip(x.priority, "priority") },
      { title: "Enabled", cell: (x) => h("input", { type: "checkbox", checked: x.enabled !== false, "aria-label": `rule ${x.id} enabled`,
          onchange: (e) => change("PATCH", `/api/listening/rules/${x.id}`, { enabled: e.target.checked }, `Rule ${x.id} ${e.target.checked ? "enabled" : "disabled"}.`) }) },
      { title: "", cell: (x) => h("button", { type: "button", class: "link", onclick: () => {
          if (confirm(`Delete rule ${x.id} (${x.name})?`)) change("DELETE", `/api/listening/rules/${x.id}`, undefined, `Rule ${x.id} deleted.`);
        } }, "Delete") },
    ], r.data.rules || [], { empty: "No rules: no post opens a case." }));
  }
  put(root, heading("Routing rules"), box, h("h3", null, "Add a rule"), form, status.el);
  await load();
}
