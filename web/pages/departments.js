// pages/departments.js - admins: the departments cases are routed to, each
// with its business hours (up to two periods a day, in the department's own
// time zone; deadlines count only open time), the minutes of an agent's
// silence after which a case is reassigned, and the pool of agents.
// PUT /api/listening/departments/:name replaces the calendar.

import { fill, h, put } from "../lib.js";
import { foldDigits, locale, t } from "../i18n/i18n.js";
import { heading, statusLine, unavailable, who } from "./cui.js";

const PERIODS = 2;
/** "08:00" in the reader's digits (typed back in any digits: foldDigits). */
const hhmm = (m) => {
  const two = new Intl.NumberFormat(locale(), { minimumIntegerDigits: 2, useGrouping: false });
  return `${two.format(Math.floor(m / 60))}:${two.format(m % 60)}`;
};
const minutes = (v) => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(foldDigits(v || "").trim());
  const total = m ? Number(m[1]) * 60 + Number(m[2]) : null;
  return total !== null && Number(m[2]) < 60 && total <= 1440 ? total : null;
};

/** Weekday names in the reader's language, 0 = Sunday (1 Jan 2023 was a Sunday). */
function weekdayName(d) {
  return new Intl.DateTimeFormat(locale(), { weekday: "long", timeZone: "UTC" }).format(new Date(Date.UTC(2023, 0, 1 + d)));
}

export async function render(ctx, root) {
  let departments = [];
  let staff = [];
  let current = "";
  const status = statusLine();
  const pick = h("form", { class: "filters", onchange: (e) => { current = e.currentTarget.elements.department.value; draw(); }, onsubmit: (e) => e.preventDefault() });
  const editor = h("div");

  async function load() {
    const [d, s] = await Promise.all([ctx.api.get("/api/listening/departments"), ctx.api.get("/api/listening/staff")]);
    if (d.status !== 200) return fill(editor, unavailable(d));
    departments = d.data.departments || [];
    if (s.status === 200) staff = s.data.staff;
    if (!departments.some((x) => x.name === current)) current = departments.length ? departments[0].name : "";
    draw();
  }

  function draw() {
    fill(pick, h("label", null, t("dept.choose"), h("select", { name: "department" },
      departments.map((d) => h("option", { value: d.name, selected: d.name === current }, d.name)))));
    const dep = departments.find((d) => d.name === current);
    if (!dep) return fill(editor);
    // Order the week from the bank's first working day: Saturday in Iran, Monday elsewhere.
    const start = dep.utc_offset_minutes === 210 ? 6 : 1;
    const days = Array.from({ length: 7 }, (_, i) => (start + i) % 7);
    const periodsOf = (d) => (dep.hours || []).filter((p) => p.weekday === d).sort((a, b) => a.start_minute - b.start_minute);
    const form = h("form", { class: "hours", dataset: { form: "hours" }, onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget;
        const hours = [];
        for (const d of days) {
          for (let k = 0; k < PERIODS; k++) {
            const sText = f.elements[`s${d}_${k}`].value.trim(), eText = f.elements[`e${d}_${k}`].value.trim();
            if (!sText && !eText) continue;
            const s = minutes(sText), en = minutes(eText);
            if (s === null || en === null || en <= s) return status.fail(t("dept.bad_period", { day: weekdayName(d) }));
            hours.push({ weekday: d, start_minute: s, end_minute: en });
          }
        }
        if (!hours.length) return status.fail(t("dept.no_hours"));
        const r = await ctx.api.put(`/api/listening/departments/${encodeURIComponent(dep.name)}`, {
          utc_offset_minutes: Number(foldDigits(f.elements.offset.value)), reassign_after_minutes: Number(foldDigits(f.elements.reassign.value)), hours });
        if (!r.ok) return status.fail(r);
        status.ok(t("dept.saved"));
        load();
      } },
      h("div", { class: "inline-form" },
        h("label", null, t("dept.offset"), h("input", { name: "offset", inputmode: "numeric", value: String(dep.utc_offset_minutes), size: 5, dir: "ltr" })),
        h("label", null, t("dept.reassign"), h("input", { name: "reassign", inputmode: "numeric", value: String(dep.reassign_after_minutes), size: 5, dir: "ltr" }))),
      h("h3", null, t("dept.hours")),
      h("table", { class: "grid" },
        h("tbody", null, days.map((d) => h("tr", null,
          h("th", { scope: "row" }, weekdayName(d)),
          Array.from({ length: PERIODS }, (_, k) => {
            const p = periodsOf(d)[k];
            return h("td", null, h("span", { class: "small" }, t("dept.period", { n: k + 1 }), " "),
              h("label", { class: "check" }, t("dept.from"), h("input", { name: `s${d}_${k}`, value: p ? hhmm(p.start_minute) : "", inputmode: "numeric", size: 5, maxlength: 5, placeholder: hhmm(480), dir: "ltr" })),
              " ",
              h("label", { class: "check" }, t("dept.until"), h("input", { name: `e${d}_${k}`, value: p ? hhmm(p.end_minute) : "", inputmode: "numeric", size: 5, maxlength: 5, placeholder: hhmm(960), dir: "ltr" })));
          }),
          h("td", { class: "small muted" }, periodsOf(d).length ? "" : t("dept.closed")))))),
      h("button", { type: "submit" }, t("dept.save")));
    const pool = (dep.agents || []).map((a) => (typeof a === "string" ? a : a.agent));
    const agents = h("form", { class: "inline-form", onsubmit: async (e) => {
        e.preventDefault();
        const agent = e.currentTarget.elements.agent.value;
        if (!agent) return;
        const r = await ctx.api.post(`/api/listening/departments/${encodeURIComponent(dep.name)}/agents`, { agent });
        if (!r.ok) return status.fail(r);
        load();
      } },
      h("label", null, t("dept.add_agent"), h("select", { name: "agent" }, staff.filter((s) => !pool.includes(s.username)).map((s) => h("option", { value: s.username }, s.username)))),
      h("button", { type: "submit", class: "secondary" }, t("dept.add_agent")));
    fill(editor, form,
      h("h3", null, t("dept.agents")),
      h("ul", { class: "panel-list" }, pool.map((a) => h("li", null, who(a), " ",
        h("button", { type: "button", class: "link", onclick: async () => {
          const r = await ctx.api.del(`/api/listening/departments/${encodeURIComponent(dep.name)}/agents/${encodeURIComponent(a)}`);
          if (!r.ok) return status.fail(r);
          load();
        } }, t("dept.remove", { name: a }))))),
      agents);
  }

  put(root, heading(t("page.departments")), pick, status.el, editor);
  await load();
}
