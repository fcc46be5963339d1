// pages/staff.js - admins: the staff accounts (GET /api/admin/staff), a form
// to add one (POST /api/admin/staff), and for agents the grant that lets
// them see a linked customer's payments in the case panel
// (PUT /api/listening/staff/:username/grants; admins always may).

import { fill, h, put } from "../lib.js";
import { t } from "../i18n/i18n.js";
import { heading, statusLine, table, unavailable, who } from "./cui.js";

const ROLES = ["agent", "analyst", "marketer", "admin"];

export async function render(ctx, root) {
  const list = h("div");
  const status = statusLine();
  const form = h("form", { class: "inline-form", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.currentTarget;
      const r = await ctx.api.post("/api/admin/staff", {
        username: f.elements.username.value.trim(), password: f.elements.password.value, role: f.elements.role.value,
      });
      if (r.status === 201) {
        status.ok(t("staff.added", { name: r.data.username }));
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, t("staff.col.username"), h("input", { name: "username", required: true, maxlength: 64, dir: "ltr" })),
    h("label", null, t("staff.password"), h("input", { name: "password", type: "password", required: true, minlength: 10, maxlength: 256, autocomplete: "new-password", dir: "ltr" })),
    h("label", null, t("staff.col.role"), h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, t(`role.${r}`))))),
    h("button", { type: "submit" }, t("staff.add_button")));

  async function load() {
    const [r, g] = await Promise.all([ctx.api.get("/api/admin/staff"), ctx.api.get("/api/listening/staff")]);
    if (r.status !== 200) return fill(list, unavailable(r));
    const sees = new Map(g.status === 200 ? g.data.staff.map((s) => [s.username, s.sees_payments]) : []);
    fill(list, table([
      { title: t("staff.col.username"), cell: (u) => u.username ?? t("common.none") },
      { title: t("staff.col.name"), cell: (u) => who(u.display_name) },
      { title: t("staff.col.role"), cell: (u) => t(`role.${u.role}`) },
      { title: t("staff.col.payments"), cell: (u) => (u.role === "agent"
          ? h("input", { type: "checkbox", checked: Boolean(sees.get(u.username)), "aria-label": t("staff.payments_toggle", { name: u.username }),
              onchange: async (e) => {
                const p = await ctx.api.put(`/api/listening/staff/${encodeURIComponent(u.username)}/grants`, { payments: e.target.checked });
                if (p.ok) status.ok(t("common.saved")); else status.fail(p);
              } })
          : u.role === "admin" ? "✓" : t("common.none")) },
    ], r.data.staff));
  }
  put(root, heading(t("page.staff")), list, h("h3", null, t("staff.add")), form, status.el);
  await load();
}
