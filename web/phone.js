// phone.js - mobile numbers as customers type them, read by the customer's
// own country first.  The server accepts Iranian (09XX XXX XXXX) and
// Ukrainian (0XX XXX XX XX) national forms alike; a ten-digit "0..." is
// Ukrainian to it, which for an Iranian customer is almost always a typo of
// an Iranian number, so the page says so instead of sending it.

import { foldDigits } from "./i18n/i18n.js";

/** The customer's country from their own E.164 phone: "IR", "UA" or "". */
export function countryOf(e164) {
  if (typeof e164 !== "string") return "";
  if (e164.startsWith("+98")) return "IR";
  if (e164.startsWith("+380")) return "UA";
  return "";
}

/**
 * Read a typed mobile number for a customer whose own number is myE164.
 * -> { ok: true, value } (digits in ASCII, separators kept out) or
 *    { ok: false, error: catalog key, vars }.
 */
export function readPhone(text, myE164) {
  const folded = foldDigits(text).replace(/[\s\-().\u200c\u200e\u200f]/g, "");
  if (!/^\+?\d{9,15}$/.test(folded)) return { ok: false, error: "phone.bad", vars: { example: example(myE164) } };
  const national = folded.startsWith("0") && !folded.startsWith("00");
  if (national && folded.length === 10 && countryOf(myE164) === "IR") return { ok: false, error: "phone.ua_for_ir" };
  return { ok: true, value: folded };
}

function example(myE164) {
  return countryOf(myE164) === "UA" ? "050 123 4567" : "0912 123 4567";
}
