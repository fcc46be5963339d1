// pages/inbox.js - agents (and analysts, admins): the cases inbox in three
// panes.  The list (filters: state, priority, department, mine; the post's
// text in each row; paged with the server's cursor; new cases announced live
// by a badge from the WebSocket; rows selected for bulk assignment or a state
// change with per-case results), the open case (departments and deadlines,
// posts, assignment picked from the staff who take cases, replies - typed or
// a canned reply in the reader's language - internal notes, the replies'
// delivery, the history) and the customer panel (who the author is, consent,
// earlier cases and posts, payments for those allowed; every opening is
// audited by the server).

import { fill, h, put } from "../lib.js";
import { currentLang, fmtMoney, has, t, tn } from "../i18n/i18n.js";
import { chip, heading, statusLine, table, unavailable, vocabSelect, when, who, word } from "./cui.js";
import { PRIORITIES, STATES } from "./labels.js";

const REFRESH_MS = 30000;

export async function render(ctx, root) {
  const filter = { state: "open", department: "", priority: "", mine: false };
  let openId = null;
  let cases = [];
  let nextCursor = null;
  let staff = [];
  let departments = [];
  let canned = [];
  let fresh = 0;
  const selected = new Set();

  const listBox = h("div", { class: "case-list" });
  const more = h("button", { type: "button", class: "link", hidden: true, onclick: () => loadList(true) }, t("inbox.more"));
  const badge = h("button", { type: "button", class: "badge", hidden: true, onclick: () => { loadList(false); } });
  const detail = h("div", { class: "case-detail" }, h("p", { class: "muted" }, t("inbox.choose")));
  const panel = h("aside", { class: "customer-panel", "aria-label": t("panel.title"), hidden: true });
  const filters = h("form", { class: "filters", onchange: readFilters, onsubmit: (e) => { e.preventDefault(); readFilters(); } });
  const bulk = h("form", { class: "bulk", hidden: true, onsubmit: (e) => e.preventDefault() });
  const bulkStatus = statusLine();

  function staffSelect(name, current, attrs = {}) {
    return h("select", { name, ...attrs },
      h("option", { value: "" }, t("inbox.nobody")),
      staff.map((s) => h("option", { value: s.username, selected: s.username === current }, s.display_name ? `${s.display_name} (${s.username})` : s.username)));
  }

  function drawFilters() {
    fill(filters,
      h("label", null, t("inbox.filter.state"), vocabSelect("state", STATES, filter.state)),
      h("label", null, t("inbox.filter.priority"), vocabSelect("priority", PRIORITIES, filter.priority)),
      h("label", null, t("inbox.filter.department"), h("select", { name: "department" },
        h("option", { value: "" }, t("common.any")),
        departments.map((d) => h("option", { value: d.name, selected: d.name === filter.department }, d.name)))),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "mine", checked: filter.mine }), t("inbox.filter.mine")),
      h("button", { type: "submit", class: "secondary" }, t("common.filter")));
  }
  function readFilters() {
    filter.state = filters.elements.state.value;
    filter.department = filters.elements.department.value;
    filter.priority = filters.elements.priority.value;
    filter.mine = filters.elements.mine.checked;
    loadList(false);
  }

  function drawBulk() {
    bulk.hidden = selected.size === 0;
    fill(bulk,
      h("span", { class: "small" }, tn("inbox.bulk.selected", selected.size)),
      h("label", null, t("inbox.bulk.assign"), staffSelect("agent", "")),
      h("button", { type: "button", class: "secondary", dataset: { bulk: "assign" }, onclick: () => {
        const agent = bulk.elements.agent.value;
        if (agent) runBulk({ action: "assign", agent });
      } }, t("inbox.bulk.apply")),
      h("label", null, t("inbox.bulk.state"), vocabSelect("state", STATES, "", { any: false })),
      h("button", { type: "button", class: "secondary", dataset: { bulk: "state" }, onclick: () => runBulk({ action: "state", state: bulk.elements.state.value }) }, t("inbox.bulk.apply")));
  }

  async function runBulk(body) {
    const r = await ctx.api.post("/api/listening/cases/bulk", { ...body, ids: [...selected] });
    if (!r.ok) return bulkStatus.fail(r);
    selected.clear();
    await loadList(false);
    bulkStatus.ok(t("inbox.bulk.result", { done: r.data.done, failed: r.data.failed }));
    if (openId) openCase(openId);
  }

  async function loadList(append) {
    const q = new URLSearchParams();
    if (filter.state) q.set("state", filter.state);
    if (filter.department) q.set("department", filter.department);
    if (filter.priority) q.set("priority", filter.priority);
    if (filter.mine) q.set("assignee", ctx.me.username);
    if (append && nextCursor) q.set("cursor", nextCursor);
    q.set("limit", "50");
    const r = await ctx.api.get(`/api/listening/cases?${q}`);
    if (r.status !== 200) return fill(listBox, unavailable(r));
    if (!append) {
      fresh = 0;
      badge.hidden = true;
    }
    cases = append ? cases.concat(r.data.cases) : r.data.cases;
    nextCursor = r.data.next_cursor;
    more.hidden = nextCursor === null || nextCursor === undefined;
    drawList();
  }

  function drawList() {
    fill(listBox, table([
      { title: h("span", { class: "visually-hidden" }, t("inbox.col.select")), cell: (c) => h("input", {
          type: "checkbox", checked: selected.has(c.id), "aria-label": t("inbox.select_case", { id: c.id }),
          onclick: (e) => e.stopPropagation(),
          onchange: (e) => { if (e.target.checked) selected.add(c.id); else selected.delete(c.id); drawBulk(); } }) },
      { title: t("inbox.col.case"), cell: (c) => h("div", null,
          h("div", { class: "case-chips" }, chip(c.priority, "priority"), chip(c.state, "state"), h("span", { class: "small" }, word(c.topic))),
          h("div", { class: "case-text", dir: "auto" }, c.text || ""),
          h("div", { class: "small muted" }, who(c.author), " · ", word(c.source), " · ", when(c.last_post_at_ms))) },
      { title: t("inbox.col.assignee"), cell: (c) => who(c.assignee || t("inbox.nobody")) },
      { title: t("inbox.col.due"), cell: (c) => (c.next_deadline_ms ? when(c.next_deadline_ms) : t("common.none")) },
    ], cases, {
      empty: t("inbox.empty"),
      rowAttrs: (c) => ({ class: `clickable ${c.id === openId ? "selected" : ""}`, dataset: { caseId: c.id }, onclick: () => openCase(c.id) }),
    }));
    drawBulk();
  }

  async function openCase(id) {
    openId = id;
    drawList();
    const r = await ctx.api.get(`/api/listening/cases/${id}`);
    if (openId !== id) return;
    if (r.status !== 200) return fill(detail, unavailable(r));
    drawCase(r.data);
    loadPanel(id);
  }

  async function loadPanel(id) {
    const r = await ctx.api.get(`/api/listening/cases/${id}/customer`);
    if (openId !== id) return;
    panel.hidden = false;
    if (r.status !== 200) return fill(panel, unavailable(r));
    const p = r.data;
    const consent = p.consent
      ? (p.consent.active ? t("panel.consent.active", { when: fmtWhen(p.consent.consented_at_ms) })
                          : t("panel.consent.withdrawn", { when: fmtWhen(p.consent.withdrawn_at_ms) }))
      : t("panel.consent.none");
    fill(panel,
      h("h3", null, t("panel.title")),
      p.customer
        ? h("dl", { class: "customer" },
            h("dt", null, t("panel.title")), h("dd", null, who(p.customer.name || p.customer.username)),
            h("dt", null, t("panel.phone")), h("dd", { dir: "ltr" }, p.customer.phone_masked),
            h("dt", null, t("panel.consent")), h("dd", null, consent))
        : h("div", null, h("p", { class: "muted small" }, t("panel.not_linked")),
            h("dl", { class: "customer" }, h("dt", null, t("panel.consent")), h("dd", null, consent))),
      h("h3", null, t("panel.earlier")),
      (p.earlier_cases || []).length
        ? h("ul", { class: "panel-list" }, p.earlier_cases.map((c) => h("li", null,
            h("button", { type: "button", class: "link", onclick: () => openCase(c.id) },
              t("panel.case_line", { id: c.id, topic: word(c.topic), state: word(c.state) })), " ", when(c.opened_at_ms))))
        : h("p", { class: "muted small" }, t("common.none_yet")),
      h("h3", null, t("panel.posts")),
      h("ul", { class: "panel-list" }, (p.posts || []).map((post) => h("li", null,
        h("div", { class: "text", dir: "auto" }, post.text || ""),
        h("div", { class: "small muted" }, chip(post.sentiment, "sentiment"), " ", when(post.posted_at_ms))))),
      p.payments_allowed && p.customer
        ? h("div", null, h("h3", null, t("panel.payments")),
            (p.payments || []).length
              ? h("ul", { class: "panel-list" }, p.payments.map((pay) => h("li", null,
                  h("span", { class: "amount" }, fmtMoney(pay.amount_minor)), " ", who(pay.counterparty || ""), " ",
                  when(pay.created_at_ms))))
              : h("p", { class: "muted small" }, t("panel.no_payments")))
        : null,
      h("p", { class: "small muted" }, t("panel.audited")));
  }

  function fmtWhen(ms) {
    const el = when(ms);
    return typeof el === "string" ? el : el.textContent;
  }

  function drawCase(c) {
    const status = statusLine();
    const act = async (path, body, done) => {
      const r = await ctx.api.post(`/api/listening/cases/${c.id}/${path}`, body);
      if (r.ok) {
        drawCase(r.data); // every action answers the case as it is now
        const line = detail.querySelector(".form-status");
        line.textContent = done;
        line.className = "small form-status ok";
        loadList(false);
      } else status.fail(r);
    };
    const lang = currentLang();
    const cannedHere = canned.filter((x) => x.lang === lang);
    const replyForm = h("form", { class: "text-form", dataset: { action: "replies" }, onsubmit: (e) => {
        e.preventDefault();
        const f = e.currentTarget;
        const shortcut = f.elements.canned.value;
        if (shortcut) return act("replies", { canned: shortcut, lang }, t("inbox.done.reply"));
        const text = f.elements.text.value;
        if (text.trim()) act("replies", { text }, t("inbox.done.reply"));
      } },
      h("label", null, t("inbox.canned"), h("select", { name: "canned", onchange: (e) => {
          const x = cannedHere.find((y) => y.shortcut === e.target.value);
          const area = e.target.form.elements.text;
          area.value = x ? x.text : "";
          area.readOnly = Boolean(x);
        } },
        h("option", { value: "" }, t("inbox.canned_none")),
        cannedHere.map((x) => h("option", { value: x.shortcut }, x.shortcut)))),
      h("label", null, t("inbox.reply"), h("textarea", { name: "text", rows: 3, maxlength: 4096, dir: "auto" })),
      h("button", { type: "submit" }, t("inbox.reply_send")));
    const noteForm = h("form", { class: "text-form", dataset: { action: "notes" }, onsubmit: (e) => {
        e.preventDefault();
        const text = e.currentTarget.elements.text.value;
        if (text.trim()) act("notes", { text }, t("inbox.done.note"));
      } },
      h("label", null, t("inbox.note"), h("textarea", { name: "text", rows: 2, maxlength: 4096, required: true, dir: "auto" })),
      h("button", { type: "submit", class: "secondary" }, t("inbox.note_add")));
    fill(detail,
      h("div", { class: "page-head" }, h("h3", null, t("inbox.case_title", { id: c.id })),
        h("div", { class: "actions" }, chip(c.priority, "priority"), chip(c.state, "state"))),
      h("p", { class: "small" }, who(c.author), " · ", word(c.source), " · ", t("inbox.case_line", { topic: word(c.topic), when: fmtWhen(c.opened_at_ms) })),
      h("h3", null, t("inbox.posts")),
      h("div", { class: "posts" }, (c.posts || []).map((p) => h("div", { class: "post" },
        h("div", { class: "text", dir: "auto" }, p.text || ""),
        h("div", { class: "labels" }, chip(p.labels && p.labels.sentiment, "sentiment"), chip(p.labels && p.labels.kind), when(p.posted_at_ms))))),
      h("h3", null, t("inbox.act")),
      h("div", { class: "inline-form" },
        h("label", null, t("inbox.state"), vocabSelect("state", STATES, c.state, { any: false, attrs: { onchange: (e) => act("state", { state: e.target.value }, t("inbox.done.state")) } })),
        h("form", { class: "inline-form", dataset: { action: "assign" }, onsubmit: (e) => {
            e.preventDefault();
            const agent = e.currentTarget.elements.agent.value;
            if (agent) act("assign", { agent }, t("inbox.done.assign"));
          } },
          h("label", null, t("inbox.assign"), staffSelect("agent", c.assignee || "")),
          h("button", { type: "submit", class: "secondary" }, t("inbox.assign_button")))),
      replyForm,
      noteForm,
      status.el,
      h("div", { hidden: !(c.replies || []).length }, h("h3", null, t("inbox.replies")), h("ol", { class: "history replies" }, (c.replies || []).map((r) => h("li", { dataset: { delivery: r.delivery } },
        h("span", { class: "small muted" }, when(r.created_at_ms), " · ", t(`inbox.channel.${r.channel}`), " · "),
        h("span", { class: `delivery delivery-${r.delivery}` }, t(`inbox.delivery.${r.delivery}`)),
        r.attempts > 1 || r.delivery === "failed" ? h("span", { class: "small muted" }, " · ", tn("inbox.attempts", r.attempts)) : null,
        " · ", h("span", { class: "who" }, who(r.agent)),
        h("div", { class: "text", dir: "auto" }, r.text ?? ""))))),
      h("h3", null, t("inbox.history")),
      h("ol", { class: "history" }, (c.history || []).map((e) => h("li", null,
        h("span", { class: "small muted" }, when(e.at_ms), " · "),
        h("span", { class: "who" }, who(e.actor || t("inbox.system"))), " ",
        h("span", null, t(`inbox.event.${e.type}`)),
        e.detail ? h("div", { class: "text", dir: "auto" }, e.type === "reply" && has(`inbox.delivery.${e.detail}`) ? t(`inbox.delivery.${e.detail}`) : e.detail) : null))));
  }

  ctx.onLive((ev) => {
    if (ev.type === "live.open") loadList(false);
    if (ev.type === "listening.cases" && ev.opened > 0) {
      fresh += ev.opened;
      badge.textContent = tn("inbox.new_cases", fresh);
      badge.hidden = false;
    }
  });
  const timer = setInterval(() => { if (!fresh) loadList(false); }, REFRESH_MS);
  const [s, d, k] = await Promise.all([
    ctx.api.get("/api/listening/staff"), ctx.api.get("/api/listening/departments"), ctx.api.get("/api/listening/canned")]);
  if (s.status === 200) staff = s.data.staff;
  if (d.status === 200) departments = d.data.departments;
  if (k.status === 200) canned = k.data.canned;
  drawFilters();
  put(root, heading(t("page.inbox"), badge), filters, bulk, h("div", { class: "bulk-status" }, bulkStatus.el),
    h("div", { class: "split3" }, h("div", null, listBox, more), detail, panel));
  await loadList(false);
  return () => clearInterval(timer);
}
