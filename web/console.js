// console.js - the staff console's shell: sign-in (POST /api/auth/login, the
// bearer token in sessionStorage, gone when the tab closes), the pages each
// role may open (a page is a module under pages/ loaded on demand), the hash
// router (#inbox, #dashboard, ...), and one live WebSocket whose events every
// page can listen to.  No framework: the DOM, fetch and ES modules.

import { Api, Live, errorText, h } from "./lib.js";

const api = new Api("socialbank.token");
const $ = (id) => document.getElementById(id);

/** Pages, in menu order, with the roles that see them (the server checks roles again on every route). */
export const PAGES = [
  { id: "inbox", title: "Cases", roles: ["agent", "analyst", "admin"], module: "./pages/inbox.js" },
  { id: "dashboard", title: "Reputation", roles: ["analyst", "marketer", "admin"], module: "./pages/dashboard.js" },
  { id: "alerts", title: "Alerts", roles: ["analyst", "admin"], module: "./pages/alerts.js" },
  { id: "suggestions", title: "Suggestions", roles: ["analyst", "marketer", "admin"], module: "./pages/suggestions.js" },
  { id: "advocates", title: "Advocates", roles: ["analyst", "marketer", "admin"], module: "./pages/advocates.js" },
  { id: "posts", title: "Posts", roles: ["analyst", "admin"], module: "./pages/posts.js" },
  { id: "rules", title: "Rules", roles: ["admin"], module: "./pages/rules.js" },
  { id: "keys", title: "API keys", roles: ["admin"], module: "./pages/keys.js" },
  { id: "staff", title: "Staff", roles: ["admin"], module: "./pages/staff.js" },
  { id: "channel", title: "Channel", roles: ["marketer", "admin"], module: "./pages/channel.js" },
];

const shell = {
  me: null,
  live: null,
  listeners: new Set(),
  cleanup: null,
  current: null,
};

/** What a page gets: the API client, the signed-in user, live events, toasts. */
const ctx = {
  api,
  get me() { return shell.me; },
  /** Call fn(event) for every live event until the page changes; returns an unsubscribe. */
  onLive(fn) {
    shell.listeners.add(fn);
    return () => shell.listeners.delete(fn);
  },
  toast,
  go(hash) { location.hash = hash; },
};

function toast(text, kind = "info") {
  const el = h("div", { class: `toast ${kind}`, role: kind === "alert" ? "alert" : "status" }, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), kind === "alert" ? 15000 : 5000);
}

function pagesFor(role) {
  return PAGES.filter((p) => p.roles.includes(role));
}

function showSignin() {
  $("signin").hidden = false;
  $("page").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("whoami").hidden = true;
  $("live").hidden = true;
}

async function start(user) {
  shell.me = user;
  if (user.role === "customer") {
    api.token = null;
    const err = $("login-error");
    err.textContent = "customers sign in to the web chat";
    err.hidden = false;
    return showSignin();
  }
  $("signin").hidden = true;
  $("page").hidden = false;
  $("logout").hidden = false;
  $("whoami").hidden = false;
  $("whoami").textContent = `${user.display_name} · ${user.role}`;
  const pages = pagesFor(user.role);
  $("nav").replaceChildren(...pages.map((p) => h("a", { href: `#${p.id}`, dataset: { page: p.id } }, p.title)));
  $("nav").hidden = pages.length === 0;
  shell.live = new Live(api, {
    onEvent: (ev) => {
      if (ev.type === "listening.alert" && ev.alert) {
        const a = ev.alert;
        toast(`Alert: ${a.metric} — ${a.observed} posts in the last hour against a baseline of ${Number(a.baseline_per_hour).toFixed(1)}`, "alert");
      }
      for (const fn of shell.listeners) {
        try { fn(ev); } catch (e) { console.error(e); }
      }
    },
    onState: (s) => {
      const el = $("live");
      el.hidden = false;
      el.textContent = s === "open" ? "live" : "reconnecting…";
      el.classList.toggle("bad", s !== "open");
      if (s === "open") for (const fn of shell.listeners) fn({ type: "live.open" });
    },
  });
  shell.live.start();
  route();
}

async function route() {
  if (!shell.me) return;
  const pages = pagesFor(shell.me.role);
  const id = location.hash.slice(1).split("?")[0];
  const page = pages.find((p) => p.id === id) || pages[0];
  const root = $("page");
  if (shell.cleanup) {
    try { shell.cleanup(); } catch { /* a page's cleanup failing must not stop the next */ }
    shell.cleanup = null;
  }
  shell.listeners.clear();
  for (const a of $("nav").querySelectorAll("a")) a.classList.toggle("active", page && a.dataset.page === page.id);
  if (!page) {
    root.replaceChildren(h("p", { class: "muted" }, `No pages for the role ${shell.me.role}.`));
    return;
  }
  shell.current = page.id;
  root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  root.dataset.page = page.id;
  try {
    const mod = await import(page.module);
    if (shell.current !== page.id) return;
    root.replaceChildren();
    shell.cleanup = (await mod.render(ctx, root)) || null;
  } catch (e) {
    root.replaceChildren(h("p", { class: "error" }, `This page failed to load: ${e.message}`));
  }
}

window.addEventListener("hashchange", route);

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const err = $("login-error");
  err.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const r = await api.post("/api/auth/login", {
      username: form.elements.username.value.trim(),
      password: form.elements.password.value,
    });
    if (r.status === 200 && r.data && r.data.token) {
      api.token = r.data.token;
      form.reset();
      await start(r.data.user);
    } else {
      err.textContent = errorText(r);
      err.hidden = false;
    }
  } catch {
    err.textContent = "the server cannot be reached";
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  await api.post("/api/auth/logout").catch(() => {});
  api.token = null;
  if (shell.live) shell.live.stop();
  if (shell.cleanup) shell.cleanup();
  shell.cleanup = null;
  shell.me = null;
  showSignin();
});

async function health() {
  const el = $("health");
  try {
    const r = await api.get("/healthz");
    el.textContent = r.status === 200 ? `ok · schema ${r.data.schema} · v${r.data.version}` : "unhealthy";
    el.classList.toggle("bad", r.status !== 200);
  } catch {
    el.textContent = "offline";
    el.classList.add("bad");
  }
}

async function boot() {
  health();
  if (!api.token) return showSignin();
  try {
    const r = await api.get("/api/me");
    if (r.status === 200) return start(r.data);
  } catch { /* fall through */ }
  api.token = null;
  showSignin();
}

boot();
