// pages/inbox.js - agents (and analysts, admins): the cases inbox.  A
// filtered list of cases (state, department, priority, mine; paged with the
// server's cursor), and the open case with its posts, departments and their
// deadlines, replies and full history, where the agent replies, writes an
// internal note, moves the state and assigns.  The list refreshes every 30 s
// and after every (re)connect.

import { fill, h, put } from "../lib.js";
import { chip, heading, qs, select, statusLine, table, unavailable, when } from "../ui.js";
import { PRIORITIES, STATES } from "./labels.js";
import { postCard } from "./postview.js";

const REFRESH_MS = 30000;

export async function render(ctx, root) {
  const filter = { state: "open", department: "", priority: "", mine: false };
  let openId = null;
  let cases = [];
  let nextCursor = null;
  const listBox = h("div", { class: "case-list" });
  const more = h("button", { type: "button", class: "link", hidden: true, onclick: () => loadList(true) }, "More cases");
  const detail = h("div", { class: "case-detail" }, h("p", { class: "muted" }, "Choose a case."));
  const filters = h("form", { class: "filters", onchange: readFilters, onsubmit: (e) => { e.preventDefault(); readFilters(); } });

  function drawFilters() {
    fill(filters, 
      h("label", null, "State", select("state", [["", "any"], ...STATES], filter.state)),
      h("label", null, "Department", h("input", { name: "department", value: filter.department, maxlength: 64, size: 12 })),
      h("label", null, "Priority", select("priority", [["", "any"], ...PRIORITIES], filter.priority)),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "mine", checked: filter.mine }), " assigned to me"),
      h("button", { type: "submit", class: "secondary" }, "Filter"));
  }
  function readFilters() {
    filter.state = filters.elements.state.value;
    filter.department = filters.elements.department.value.trim();
    filter.priority = filters.elements.priority.value;
    filter.mine = filters.elements.mine.checked;
    loadList(false);
  }

  async function loadList(append) {
    const r = await ctx.api.get(`/api/listening/cases${qs({
      state: filter.state, department: filter.department, priority: filter.priority,
      assignee: filter.mine ? ctx.me.username : "", cursor: append ? nextCursor : "", limit: 50,
    })}`);
    if (r.status !== 200) return fill(listBox, unavailable(r, "Cases"));
    cases = append ? cases.concat(r.data.cases) : r.data.cases;
    nextCursor = r.data.next_cursor;
    more.hidden = nextCursor === null || nextCursor === undefined;
    drawList();
  }

  function drawList() {
    fill(listBox, table([
      { title: "#", cell: (c) => c.id, class: "num" },
      { title: "Priority", cell: (c) => chip(c.priority, "priority") },
      { title: "State", cell: (c) => chip(c.state, "state") },
      { title: "Case", cell: (c) => h("div", null,
          h("div", null, `${c.topic ?? "—"} · ${(c.departments || []).join(", ")}`),
          h("div", { class: "small muted", dir: "auto" }, `${c.author ?? ""} on ${c.source ?? ""} · ${c.posts} post${c.posts === 1 ? "" : "s"}`)) },
      { title: "Assignee", cell: (c) => c.assignee || "—" },
      { title: "Due", cell: (c) => when(c.next_deadline_ms) },
    ], cases, {
      empty: "No cases match.",
      rowAttrs: (c) => ({ class: `clickable ${c.id === openId ? "selected" : ""}`, dataset: { caseId: c.id }, onclick: () => openCase(c.id) }),
    }));
  }

  async function openCase(id) {
    openId = id;
    drawList();
    const r = await ctx.api.get(`/api/listening/cases/${id}`);
    if (openId !== id) return;
    if (r.status !== 200) return fill(detail, unavailable(r, `Case ${id}`));
    drawCase(r.data);
  }

  function drawCase(c) {
    const status = statusLine();
    const act = async (path, body, done) => {
      const r = await ctx.api.post(`/api/listening/cases/${c.id}/${path}`, body);
      if (r.ok) {
        drawCase(r.data); // every action answers the case as it is now
        detail.querySelector(".form-status").textContent = done;
        detail.querySelector(".form-status").className = "small form-status ok";
        loadList(false);
      } else status.fail(r);
    };
    const textForm = (label, path, done) => h("form", { class: "text-form", dataset: { action: path }, onsubmit: (e) => {
        e.preventDefault();
        const text = e.currentTarget.elements.text.value;
        if (text.trim()) act(path, { text }, done);
      } },
      h("label", null, label, h("textarea", { name: "text", rows: 2, maxlength: 4096, required: true, dir: "auto" })),
      h("button", { type: "submit" }, label));
    fill(detail, 
      h("div", { class: "page-head" }, h("h3", null, `Case #${c.id}`),
        h("div", { class: "actions" }, chip(c.priority, "priority"), chip(c.state, "state"))),
      h("p", { class: "small" }, `${c.topic ?? ""} · ${c.author ?? ""} on ${c.source ?? ""} · assignee: ${c.assignee || "nobody"} · opened ${when(c.opened_at_ms)}`,
        c.reopen_count ? ` · reopened ${c.reopen_count}×` : ""),
      table([
        { title: "Department", cell: (d) => d.department },
        { title: "Deadline", cell: (d) => (d.deadline_ms ? when(d.deadline_ms) : "stopped") },
        { title: "Business time used", cell: (d) => `${Math.round(d.business_ms_used / 60000)} of ${Math.round(d.budget_ms / 60000)} min`, class: "num" },
        { title: "Escalation", cell: (d) => (d.escalation_level ? `level ${d.escalation_level}` : "—") },
      ], c.departments || [], { empty: "No departments." }),
      h("h3", null, `Posts (${(c.posts || []).length})`),
      h("div", { class: "posts" }, (c.posts || []).map((p) => postCard(ctx, p, () => openCase(c.id)))),
      h("h3", null, "Act"),
      h("div", { class: "inline-form" },
        h("label", null, "State", select("state", STATES, c.state, { onchange: (e) => act("state", { state: e.target.value }, `State: ${e.target.value}.`) })),
        h("form", { class: "inline-form", onsubmit: (e) => {
            e.preventDefault();
            const agent = e.currentTarget.elements.agent.value.trim();
            if (agent) act("assign", { agent }, `Assigned to ${agent}.`);
          } },
          h("label", null, "Assign to", h("input", { name: "agent", value: c.assignee || ctx.me.username || "", maxlength: 64, size: 12 })),
          h("button", { type: "submit", class: "secondary" }, "Assign"))),
      textForm("Reply", "replies", "Reply recorded."),
      textForm("Note", "notes", "Note added."),
      status.el,
      h("div", { hidden: !(c.replies || []).length }, h("h3", null, "Replies"), h("ol", { class: "history replies" }, (c.replies || []).map((r) => h("li", null,
        h("span", { class: "small muted" }, `${when(r.created_at_ms)} · ${r.channel} · ${r.delivery} · `),
        h("span", { class: "who" }, r.agent),
        h("div", { class: "text", dir: "auto" }, r.text ?? ""))))),
      h("h3", null, "History"),
      h("ol", { class: "history" }, (c.history || []).map((e) => h("li", null,
        h("span", { class: "small muted" }, when(e.at_ms), " · "),
        h("span", { class: "who" }, e.actor || "system"), " ",
        h("span", null, e.type ?? ""),
        e.detail ? h("div", { class: "text", dir: "auto" }, e.detail) : null))));
  }

  ctx.onLive((ev) => { if (ev.type === "live.open") loadList(false); });
  const timer = setInterval(() => loadList(false), REFRESH_MS);
  drawFilters();
  put(root, heading("Cases"), filters, h("div", { class: "split" }, h("div", null, listBox, more), detail));
  await loadList(false);
  return () => clearInterval(timer);
}
