// pages/staff.js - admins: the staff accounts (GET /api/admin/staff) and a
// form to add one (POST /api/admin/staff).

import { fill, h, put } from "../lib.js";
import { heading, statusLine, table, unavailable } from "../ui.js";

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
        status.ok(`Added ${r.data.username} (${r.data.role}).`);
        f.reset();
        load();
      } else status.fail(r);
    } },
    h("label", null, "Username", h("input", { name: "username", required: true, maxlength: 64 })),
    h("label", null, "Password (10+)", h("input", { name: "password", type: "password", required: true, minlength: 10, maxlength: 256, autocomplete: "new-password" })),
    h("label", null, "Role", h("select", { name: "role" }, ["agent", "analyst", "marketer", "admin"].map((r) => h("option", { value: r }, r)))),
    h("button", { type: "submit" }, "Add"));

  async function load() {
    const r = await ctx.api.get("/api/admin/staff");
    if (r.status !== 200) return fill(list, unavailable(r, "Staff"));
    fill(list, table([
      { title: "Id", cell: (u) => u.id },
      { title: "Username", cell: (u) => u.username ?? "—" },
      { title: "Name", cell: (u) => u.display_name },
      { title: "Role", cell: (u) => u.role },
    ], r.data.staff));
  }
  put(root, heading("Staff"), list, h("h3", null, "Add a staff account"), form, status.el);
  await load();
}
