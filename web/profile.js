// profile.js - the customer's profile (name, @username, language, time zone,
// who may find them by phone and by @username: asked at sign-up, changeable)
// and the phone book lookup, which shows only people the server reveals.

import { h } from "./lib.js";
import { bdi, setLang, setTimeZone, t, tError, tn } from "./i18n/i18n.js";
import { readPhone } from "./phone.js";

const $ = (id) => document.getElementById(id);
let ctx = null; // { api, me: () => user, setMe(user), openDirect(userId) }

export function initProfile(context) {
  ctx = context;
  $("profile-form").addEventListener("submit", saveProfile);
  $("contacts-form").addEventListener("submit", lookup);
}

/** Fill the form from the user; welcome: the sign-up greeting. */
export function showProfile({ welcome = false } = {}) {
  const me = ctx.me();
  const f = $("profile-form").elements;
  // The same languages as the header's switch.
  if (f.language.options.length === 0) f.language.replaceChildren(...[...$("lang").options].map((o) => o.cloneNode(true)));
  f.display_name.value = me.display_name || "";
  f.username.value = me.username || "";
  f.language.value = me.language || document.documentElement.lang;
  f.time_zone.value = me.time_zone || "";
  if (me.time_zone && f.time_zone.value !== me.time_zone) {
    f.time_zone.append(h("option", { value: me.time_zone, translate: "no", dir: "ltr" }, me.time_zone));
    f.time_zone.value = me.time_zone;
  }
  f.by_phone.checked = Boolean(me.discoverable && me.discoverable.by_phone);
  f.by_username.checked = Boolean(me.discoverable && me.discoverable.by_username);
  $("welcome").hidden = !welcome;
  $("profile-status").textContent = "";
}

async function saveProfile(event) {
  event.preventDefault();
  const me = ctx.me();
  const f = event.currentTarget.elements;
  const status = $("profile-status");
  const name = f.display_name.value.trim();
  if (!name) {
    status.className = "small error";
    status.textContent = t("profile.name_bad");
    return;
  }
  const body = {
    display_name: name,
    language: f.language.value,
    time_zone: f.time_zone.value,
    discoverable_by_phone: f.by_phone.checked,
    discoverable_by_username: f.by_username.checked,
  };
  const username = f.username.value.trim().replace(/^@/, "");
  if (username && username !== me.username) body.username = username;
  const button = event.currentTarget.querySelector("button[type=submit]");
  button.disabled = true;
  const r = await ctx.api.patch("/api/me", body).catch(() => null);
  button.disabled = false;
  if (!r || !r.ok) {
    status.className = "small error";
    status.textContent = tError(r);
    return;
  }
  ctx.setMe(r.data);
  setTimeZone(r.data.time_zone || undefined);
  if (r.data.language && r.data.language !== document.documentElement.lang) await setLang(r.data.language);
  status.className = "small ok";
  status.textContent = t("common.saved");
  $("welcome").hidden = true;
}

async function lookup(event) {
  event.preventDefault();
  const status = $("contacts-status");
  const lines = event.currentTarget.elements.phones.value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean).slice(0, 100);
  if (lines.length === 0) return;
  // Numbers are read by the customer's country first; one the page can tell is wrong is not sent.
  const sent = [];
  let bad = 0;
  for (const line of lines) {
    const p = readPhone(line, ctx.me().phone);
    if (p.ok) sent.push(p.value);
    else bad++;
  }
  let found = [];
  if (sent.length) {
    const r = await ctx.api.post("/api/contacts/lookup", { phones: sent }).catch(() => null);
    if (!r || !r.ok) {
      status.textContent = tError(r);
      return;
    }
    found = r.data.found;
    bad += r.data.invalid.length;
  }
  const parts = [found.length ? tn("contacts.found", found.length) : t("contacts.none")];
  if (bad) parts.push(tn("contacts.invalid", bad));
  status.textContent = parts.join(" ");
  $("contacts-found").replaceChildren(...found.map((p) => h("li", { dataset: { userId: p.user_id } },
    bdi(p.display_name, { class: "name" }), p.username ? [" ", bdi(`@${p.username}`, { dir: "ltr", class: "muted small" })] : null,
    h("button", { type: "button", class: "secondary", onclick: () => ctx.openDirect(p.user_id, p.display_name) }, t("contacts.chat")))));
}
