// console.js - the staff console's sign-in: POST /api/auth/login, keep the
// bearer token in sessionStorage (gone when the tab closes), show GET /api/me,
// sign out with POST /api/auth/logout.  No framework: the DOM and fetch.

const TOKEN_KEY = "socialbank.token";

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { status: res.status, data };
}

function errorText(r) {
  if (r.data && r.data.error) return r.data.error.message;
  return `request failed (${r.status})`;
}

function show(section) {
  $("signin").hidden = section !== "signin";
  $("me").hidden = section !== "me";
}

function renderMe(user) {
  const dl = $("me-fields");
  dl.replaceChildren();
  for (const [label, value] of [["Name", user.display_name], ["Username", user.username ?? "—"],
                                ["Role", user.role], ["User id", String(user.id)]]) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value ?? "—";
    dl.append(dt, dd);
  }
  show("me");
}

async function loadMe() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return show("signin");
  const r = await api("GET", "/api/me");
  if (r.status === 200) return renderMe(r.data);
  sessionStorage.removeItem(TOKEN_KEY);
  show("signin");
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const err = $("login-error");
  err.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const r = await api("POST", "/api/auth/login", {
      username: form.elements.username.value.trim(),
      password: form.elements.password.value,
    });
    if (r.status === 200 && r.data && r.data.token) {
      sessionStorage.setItem(TOKEN_KEY, r.data.token);
      form.reset();
      renderMe(r.data.user);
    } else {
      err.textContent = errorText(r);
      err.hidden = false;
    }
  } catch (e) {
    err.textContent = "the server cannot be reached";
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  await api("POST", "/api/auth/logout").catch(() => {});
  sessionStorage.removeItem(TOKEN_KEY);
  show("signin");
});

async function health() {
  const el = $("health");
  try {
    const r = await api("GET", "/healthz");
    el.textContent = r.status === 200 ? `ok · schema ${r.data.schema} · v${r.data.version}` : "unhealthy";
    el.classList.toggle("bad", r.status !== 200);
  } catch {
    el.textContent = "offline";
    el.classList.add("bad");
  }
}

health();
loadMe();
