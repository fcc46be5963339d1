// sheet.js - the confirm step every payment goes through: a dialog listing
// what the server's quote says (payee, card, amount, fee, total) with one
// primary button that says what it does, and the receipt view after it.

import { h } from "./lib.js";
import { tError } from "./i18n/i18n.js";

const $ = (id) => document.getElementById(id);
let pending = null;

/** rows: [[label, value (string or Node)]...] -> a definition list. */
export function facts(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

/**
 * Show the confirm sheet.  go() runs on the primary button and returns a
 * server answer: ok closes the sheet and resolves with it; a refusal stays
 * open showing the reason in the user's language.  Cancel resolves null.
 */
export function confirmStep({ content, goLabel }, go) {
  if (pending) pending(null);
  const sheet = $("confirm");
  $("confirm-content").replaceChildren(content);
  const goButton = $("confirm-go");
  goButton.replaceChildren(...(Array.isArray(goLabel) ? goLabel : [goLabel]));
  const err = $("confirm-error");
  err.hidden = true;
  sheet.hidden = false;
  goButton.disabled = false;
  goButton.focus();
  return new Promise((resolve) => {
    pending = (value) => {
      pending = null;
      sheet.hidden = true;
      goButton.onclick = null;
      resolve(value);
    };
    goButton.onclick = async () => {
      goButton.disabled = true;
      let r = null;
      try { r = await go(); } catch { r = null; }
      if (r && r.ok) return pending && pending(r);
      err.textContent = tError(r);
      err.hidden = false;
      goButton.disabled = false;
    };
  });
}

$("confirm-cancel").addEventListener("click", () => pending && pending(null));
$("receipt-close").addEventListener("click", () => { $("receipt-view").hidden = true; });
for (const id of ["confirm", "receipt-view"]) {
  $(id).addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (id === "confirm" && pending) pending(null);
    else $(id).hidden = true;
  });
}

/** Show a receipt (content built by the caller). */
export function showReceipt(content) {
  $("receipt-content").replaceChildren(content);
  $("receipt-view").hidden = false;
  $("receipt-close").focus();
}

