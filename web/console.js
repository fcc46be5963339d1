// console.js - the staff console's shell: sign-in (POST /api/auth/login, the
// bearer token in sessionStorage, gone when the tab closes), the language
// (the bank's default from <html data-default-lang>, each person's own choice
// remembered on the device; every page redraws on a switch), the pages each
// role may open (a page is a module under pages/ loaded on demand), the hash
// router (#inbox, #dashboard, ...), and one live WebSocket whose events every
// page can listen to.  No framework: the DOM, fetch and ES modules.

import { Api, Live, h } from "./lib.js";
import { currentLang, initI18n, setLang, t, tError } from "./i18n/i18n.js";

const api = new Api("socialbank.token");
const $ = (id) => document.getElementById(id);

/** Pages, in menu order, with the roles that see them (the server checks roles again on every route). */
export const PAGES = [
  { id: "inbox", title: "page.inbox", roles: ["agent", "analyst", "admin"], module: "./pages/inbox.js" },
  { id: "stream", title: "page.stream", roles: ["analyst", "marketer", "admin"], module: "./pages/stream.js" },
  { id: "dashboard", title: "page.dashboard", roles: ["analyst", "marketer", "admin"], module: "./pages/dashboard.js" },
  { id: "alerts", title: "page.alerts", roles: ["analyst", "admin"], module: "./pages/alerts.js" },
  { id: "suggestions", title: "page.suggestions", roles: ["analyst", "marketer", "admin"], module: "./pages/suggestions.js" },
  { id: "advocates", title: "page.advocates", roles: ["analyst", "marketer", "admin"], module: "./pages/advocates.js" },
  { id: "posts", title: "page.posts", roles: ["analyst", "admin"], module: "./pages/posts.js" },
  { id: "rules", title: "page.rules", roles: ["admin"], module: "./pages/rules.js" },
  { id: "departments", title: "page.departments", roles: ["admin"], module: "./pages/departments.js" },
  { id: "privacy", title: "page.privacy", roles: ["admin"], module: "./pages/privacy.js" },
  { id: "keys", title: "page.keys", roles: ["admin"], module: "./pages/keys.js" },
  { id: "staff", title: "page.staff", roles: ["admin"], module: "./pages/staff.js" },
  { id: "channel", title: "page.channel", roles: ["marketer", "admin"], module: "./pages/channel.js" },
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

function drawNav() {
  if (!shell.me) return;
  const pages = pagesFor(shell.me.role);
  $("nav").replaceChildren(...pages.map((p) => h("a", { href: `#${p.id}`, dataset: { page: p.id } }, t(p.title))));
  $("nav").hidden = pages.length === 0;
  for (const a of $("nav").querySelectorAll("a")) a.classList.toggle("active", a.dataset.page === shell.current);
  $("whoami").textContent = t("console.whoami", { name: shell.me.display_name || shell.me.username, role: shell.me.role });
}

async function start(user) {
  shell.me = user;
  if (user.role === "customer") {
    api.token = null;
    const err = $("login-error");
    err.textContent = t("console.signin.customer_refused");
    err.hidden = false;
    return showSignin();
  }
  $("signin").hidden = true;
  $("page").hidden = false;
  $("logout").hidden = false;
  $("whoami").hidden = false;
  drawNav();
  shell.live = new Live(api, {
    onEvent: (ev) => {
      if (ev.type === "listening.alert" && ev.alert) {
        const a = ev.alert;
        toast(t("console.alert_toast", { metric: a.metric, observed: a.observed }), "alert");
      }
      for (const fn of shell.listeners) {
        try { fn(ev); } catch (e) { console.error(e); }
      }
    },
    onState: (s) => {
      const el = $("live");
      el.hidden = false;
      el.textContent = s === "open" ? t("console.live.open") : t("console.live.reconnecting");
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
    root.replaceChildren(h("p", { class: "muted" }, t("console.no_pages")));
    return;
  }
  shell.current = page.id;
  root.replaceChildren(h("p", { class: "muted" }, t("console.loading")));
  root.dataset.page = page.id;
  try {
    const mod = await import(page.module);
    if (shell.current !== page.id) return;
    root.replaceChildren();
    shell.cleanup = (await mod.render(ctx, root)) || null;
  } catch (e) {
    console.error(e);
    root.replaceChildren(h("p", { class: "error" }, t("console.page_failed")));
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
      err.textContent = tError(r);
      err.hidden = false;
    }
  } catch {
    err.textContent = tError(null);
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
    el.textContent = r.status === 200 ? t("console.health.ok") : t("console.health.bad");
    el.classList.toggle("bad", r.status !== 200);
  } catch {
    el.textContent = t("console.health.offline");
    el.classList.add("bad");
  }
}

// The language: this person's choice on this device, else the bank's default.
$("lang").addEventListener("change", (e) => setLang(e.target.value));
window.addEventListener("sb-langchange", () => {
  $("lang").value = currentLang();
  drawNav();
  health();
  if (shell.me) route();
});

async function boot() {
  let chosen = null;
  try { chosen = localStorage.getItem("socialbank.lang"); } catch { /* storage off */ }
  await initI18n({ profile: chosen || document.documentElement.dataset.defaultLang });
  $("lang").value = currentLang();
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
