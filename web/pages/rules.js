// pages/rules.js - admins: the routing rules that open cases from posts
// (match on kind, sentiment, topic, risk, source; route to one or several
// departments with a priority), enabled or disabled, added and deleted.

import { h } from "../lib.js";
import { chip, heading, statusLine, table, unavailable } from "../ui.js";

const FIELDS = ["kind", "sentiment", "topic", "risk", "source"];

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const rule = { name: f.elements.name.value.trim(), priority: f.elements.priority.value,
                     departments: f.elements.departments.value.split(",").map((d) => d.trim()).filter(Boolean) };
      for (const k of FIELDS) if (f.elements[k].value.trim()) rule[k] = f.elements[k].value.trim();
      const r = await ctx.api.post("/api/listening/rules", rule);
      if (r.ok) {
        status.ok("Rule added.");
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, "Name", h("input", { name: "name", required: true, maxlength: 64, size: 14 })),
    FIELDS.map((k) => h("label", null, k, h("input", { name: k, maxlength: 64, size: 10, placeholder: "any" }))),
    h("label", null, "Departments", h("input", { name: "departments", required: true, maxlength: 256, placeholder: "support, cards", size: 16 })),
    h("label", null, "Priority", h("select", { name: "priority" }, ["urgent", "high", "normal", "low"].map((p) => h("option", { value: p, selected: p === "normal" }, p)))),
    h("button", { type: "submit" }, "Add rule"));

  async function change(method, path, body, done) {
    const r = await ctx.api.call(method, path, body);
    if (r.ok) { status.ok(done); load(); } else status.fail(r);
  }

  async function load() {
    const r = await ctx.api.get("/api/listening/rules");
    if (r.status !== 200) return box.replaceChildren(unavailable(r, "Rules"));
    const rules = r.data.rules || [];
    box.replaceChildren(table([
      { title: "#", cell: (x) => x.id, class: "num" },
      { title: "Name", cell: (x) => x.name ?? "" },
      { title: "When", cell: (x) => FIELDS.filter((k) => x[k]).map((k) => `${k}=${x[k]}`).join(" & ") || "every post" },
      { title: "Departments", cell: (x) => (x.departments || []).join(", ") },
      { title: "Priority", cell: (x) => chip(x.priority, "priority") },
      { title: "Enabled", cell: (x) => h("input", { type: "checkbox", checked: x.enabled !== false, "aria-label": `rule ${x.id} enabled`,
          onchange: (e) => change("PATCH", `/api/listening/rules/${x.id}`, { enabled: e.target.checked }, `Rule ${x.id} ${e.target.checked ? "enabled" : "disabled"}.`) }) },
      { title: "", cell: (x) => h("button", { type: "button", class: "link", onclick: () => {
          if (confirm(`Delete rule ${x.id}?`)) change("DELETE", `/api/listening/rules/${x.id}`, undefined, `Rule ${x.id} deleted.`);
        } }, "Delete") },
    ], rules, { empty: "No rules: no post opens a case." }));
  }
  root.append(heading("Routing rules"), box, h("h3", null, "Add a rule"), form, status.el);
  await load();
}
