// pages/inbox.js - agents: the cases inbox.  A filtered list of cases (state,
// department, priority, mine), and the open case with its posts and full
// history, where the agent replies, writes an internal note, moves the state
// and assigns.  Case events on the WebSocket reload what they touch.

import { h } from "../lib.js";
import { chip, heading, qs, select, statusLine, table, unavailable, when } from "../ui.js";

const STATES = ["open", "acknowledged", "waiting", "resolved"];
const PRIORITIES = ["urgent", "high", "normal", "low"];

export async function render(ctx, root) {
  const filter = { state: "open", department: "", priority: "", mine: false };
  let openId = null;
  let cases = [];
  const listBox = h("div", { class: "case-list" });
  const detail = h("div", { class: "case-detail" }, h("p", { class: "muted" }, "Choose a case."));
  const filters = h("form", { class: "filters", onchange: readFilters, onsubmit: (e) => { e.preventDefault(); readFilters(); } });

  function drawFilters() {
    filters.replaceChildren(
      h("label", null, "State", select("state", [["", "any"], ...STATES], filter.state)),
      h("label", null, "Department", h("input", { name: "department", value: filter.department, maxlength: 64, size: 12 })),
      h("label", null, "Priority", select("priority", [["", "any"], ...PRIORITIES], filter.priority)),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "mine", checked: filter.mine }), "Assigned to me"),
      h("button", { type: "submit", class: "secondary" }, "Filter"));
  }
  function readFilters() {
    filter.state = filters.elements.state.value;
    filter.department = filters.elements.department.value.trim();
    filter.priority = filters.elements.priority.value;
    filter.mine = filters.elements.mine.checked;
    loadList();
  }

  async function loadList() {
    const r = await ctx.api.get(`/api/cases${qs({
      state: filter.state, department: filter.department, priority: filter.priority,
      assignee: filter.mine ? ctx.me.username : "", limit: 100,
    })}`);
    if (r.status !== 200) return listBox.replaceChildren(unavailable(r, "Cases"));
    cases = r.data.cases || [];
    drawList();
  }

  function drawList() {
    listBox.replaceChildren(table([
      { title: "#", cell: (c) => c.id, class: "num" },
      { title: "Priority", cell: (c) => chip(c.priority, "priority") },
      { title: "State", cell: (c) => chip(c.state, "state") },
      { title: "Departments", cell: (c) => (c.departments || []).map((d) => (typeof d === "string" ? d : d.department || d.name)).join(", ") },
      { title: "Assignee", cell: (c) => c.assignee || "—" },
      { title: "Deadline", cell: (c) => when(c.deadline_ms ?? c.due_ms) },
      { title: "Summary", cell: (c) => h("span", { dir: "auto" }, (c.summary || c.title || c.reason || "").slice(0, 120)) },
    ], cases, {
      empty: "No cases match.",
      rowAttrs: (c) => ({ class: `clickable ${c.id === openId ? "selected" : ""}`, dataset: { caseId: c.id }, onclick: () => openCase(c.id) }),
    }));
  }

  async function openCase(id) {
    openId = id;
    drawList();
    const r = await ctx.api.get(`/api/cases/${id}`);
    if (openId !== id) return;
    if (r.status !== 200) return detail.replaceChildren(unavailable(r, `Case ${id}`));
    drawCase(r.data.case || r.data, r.data);
  }

  function drawCase(c, all) {
    const posts = all.posts || c.posts || [];
    const history = all.history || c.history || all.events || [];
    const status = statusLine();
    const act = async (method, path, body, done) => {
      const r = await ctx.api.call(method, path, body);
      if (r.ok) {
        status.ok(done);
        await openCase(c.id);
        loadList();
      } else status.fail(r);
    };
    const textForm = (label, path, done) => h("form", { class: "text-form", onsubmit: (e) => {
        e.preventDefault();
        const text = e.currentTarget.elements.text.value;
        if (text.trim()) act("POST", path, { text }, done);
      } },
      h("label", null, label, h("textarea", { name: "text", rows: 2, maxlength: 4096, required: true, dir: "auto" })),
      h("button", { type: "submit" }, label));
    detail.replaceChildren(
      h("div", { class: "page-head" }, h("h3", null, `Case #${c.id}`),
        h("div", { class: "actions" }, chip(c.priority, "priority"), chip(c.state, "state"))),
      h("p", { class: "small" },
        `Departments: ${(c.departments || []).map((d) => (typeof d === "string" ? d : `${d.department || d.name}${d.deadline_ms ? " (due " + when(d.deadline_ms) + ")" : ""}`)).join(", ") || "—"}`,
        ` · assignee: ${c.assignee || "nobody"} · opened ${when(c.created_at_ms)}`),
      h("h3", null, `Posts (${posts.length})`),
      posts.map((p) => h("div", { class: "post", dataset: { postId: p.id } },
        h("div", { class: "small muted" }, `${p.source || ""} · ${p.author || ""} · ${when(p.posted_at_ms ?? p.created_at_ms)}`),
        h("div", { class: "text", dir: "auto" }, p.text ?? ""),
        h("div", { class: "small" }, chip(p.sentiment, "sentiment"), " ", chip(p.kind), " ", chip(p.topic), " ", p.lang ? chip(p.lang) : null))),
      h("h3", null, "Act"),
      h("div", { class: "inline-form" },
        h("label", null, "State", select("state", STATES, c.state, { onchange: (e) => act("POST", `/api/cases/${c.id}/state`, { state: e.target.value }, `State: ${e.target.value}.`) })),
        h("form", { class: "inline-form", onsubmit: (e) => {
            e.preventDefault();
            const agent = e.currentTarget.elements.agent.value.trim();
            if (agent) act("POST", `/api/cases/${c.id}/assign`, { agent }, `Assigned to ${agent}.`);
          } },
          h("label", null, "Assign to", h("input", { name: "agent", value: c.assignee || ctx.me.username || "", maxlength: 64, size: 12 })),
          h("button", { type: "submit", class: "secondary" }, "Assign"))),
      textForm("Reply", `/api/cases/${c.id}/replies`, "Reply sent."),
      textForm("Note", `/api/cases/${c.id}/notes`, "Note added."),
      status.el,
      h("h3", null, "History"),
      h("ol", { class: "history" }, history.map((e) => h("li", null,
        h("span", { class: "small muted" }, when(e.at_ms ?? e.created_at_ms), " · "),
        h("span", { class: "who" }, e.actor || "system"), " ",
        h("span", null, e.kind || e.type || ""),
        e.text || e.detail ? h("div", { class: "text", dir: "auto" }, e.text || e.detail) : null))));
  }

  ctx.onLive((ev) => {
    if (ev.type === "live.open") return loadList();
    if (typeof ev.type === "string" && ev.type.startsWith("case")) {
      loadList();
      const id = ev.case_id ?? (ev.case && ev.case.id);
      if (openId !== null && id === openId) openCase(openId);
    }
  });

  drawFilters();
  root.append(heading("Cases"), filters, h("div", { class: "split" }, listBox, detail));
  await loadList();
}
