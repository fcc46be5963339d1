// i18n_check.mjs - ctest web.i18n: the message catalogs and the pages agree.
//
// Fails when
//  - a catalog (web/i18n/{fa,uk,ru,en}.json) lacks a key another has, a
//    message's {placeholders} differ between languages, or a plural message
//    lacks a category Intl.PluralRules needs for its language;
//  - an error code the server can answer (api_reply_error literals, the
//    status codes of body.c/http.c, the payment limit, request and quote
//    verdicts, the ledger's exceeds_* results) or a payment input reason
//    (error.invalid.<reason>) has no sentence;
//  - a localised page shows text that is not from the catalogs: in HTML, text
//    in an element without data-i18n (or translate="no": data such as an
//    IANA time zone name), or a placeholder / aria-label / title
//    / alt attribute without its data-i18n-* twin; in JS, a string literal
//    with letters given to a visible sink (a child of h(), textContent,
//    title/placeholder/aria-label/alt, prompt/confirm/alert), or a t()/tn()
//    key that no catalog has.
// A page is localised when its HTML has <html data-i18n-page> or its script
// imports i18n.js; the others are listed as "not yet localised" (no failure).
//
// Usage: node tests/web/i18n_check.mjs [SOURCE_DIR]; SB_SOURCE_DIR also works.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = process.argv[2] || process.env.SB_SOURCE_DIR || join(fileURLToPath(import.meta.url), "../../..");
const LANGS = ["fa", "uk", "ru", "en"];
const problems = [];
const fail = (msg) => problems.push(msg);

/* ------------------------------------------------------------ catalogs */

const catalogs = {};
for (const lang of LANGS) {
  const path = join(root, "web/i18n", `${lang}.json`);
  try {
    catalogs[lang] = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    fail(`${lang}.json: cannot be read as JSON (${e.message})`);
    catalogs[lang] = {};
  }
}
const allKeys = new Set(LANGS.flatMap((l) => Object.keys(catalogs[l])));
const placeholders = (v) => {
  const texts = typeof v === "string" ? [v] : Object.values(v || {});
  return [...new Set(texts.flatMap((s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort().join(",");
};
for (const key of [...allKeys].sort()) {
  const shapes = new Set();
  for (const lang of LANGS) {
    const v = catalogs[lang][key];
    if (v === undefined) { fail(`${lang}.json lacks "${key}" (another catalog has it)`); continue; }
    if (typeof v !== "string" && (typeof v !== "object" || Array.isArray(v) || v === null)) {
      fail(`${lang}.json "${key}": a message is a string or a plural object`);
      continue;
    }
    if (typeof v === "string" && v.trim() === "") fail(`${lang}.json "${key}" is empty`);
    if (typeof v === "object") {
      const need = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const cat of need) if (typeof v[cat] !== "string") fail(`${lang}.json "${key}": plural category "${cat}" is missing`);
    }
    shapes.add(placeholders(v));
  }
  if (shapes.size > 1) fail(`"${key}": the languages use different {placeholders} (${[...shapes].join(" | ")})`);
}

/* ------------------------------------------------- server error codes */

function walk(dir, ext) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}
const read = (p) => readFileSync(p, "utf8");
const codes = new Set();
const reasons = new Set();
for (const file of walk(join(root, "src"), ".c")) {
  const src = read(file);
  for (const m of src.matchAll(/api_(?:ws_)?reply_error\(\s*\w+\s*,\s*(?:\d+|[\w"]+)\s*,\s*"([a-z_]+)"/g)) codes.add(m[1]);
  for (const m of src.matchAll(/\\"code\\":\\"([a-z_]+)\\"/g)) codes.add(m[1]);
  // The status table of body.c (code = "..."), the verdict names (limit, request, quote).
  for (const m of src.matchAll(/\bcode = "([a-z_]+)"/g)) codes.add(m[1]);
  for (const fn of ["payments_limit_verdict_name", "payments_request_verdict_name", "payops_quote_verdict_name", "identity_name_verdict_name"]) {
    const at = src.indexOf(`*${fn}(`);
    if (at < 0) continue;
    const body = src.slice(at, src.indexOf("\n}", at));
    for (const m of body.matchAll(/"([a-z_]+)"/g)) codes.add(m[1]);
  }
  if (file.endsWith("ledger_names.c")) for (const m of src.matchAll(/"(exceeds_[a-z_]+)"/g)) codes.add(m[1]);
  const reasonTable = /\breasons\[PAYMENTS_REASON_COUNT\] = \{([\s\S]*?)\n\};/.exec(src);
  if (reasonTable) for (const m of reasonTable[1].matchAll(/\{"([a-z_]+)",/g)) reasons.add(m[1]);
}
if (codes.size < 20) fail(`only ${codes.size} server error codes found in src/: the extraction is broken`);
if (reasons.size < 10) fail(`only ${reasons.size} payment input reasons found in src/: the extraction is broken`);
for (const code of [...codes].sort()) if (!allKeys.has(`error.${code}`)) fail(`server error code "${code}" has no sentence (error.${code})`);
for (const r of [...reasons].sort()) if (!allKeys.has(`error.invalid.${r}`)) fail(`payment input reason "${r}" has no sentence (error.invalid.${r})`);

/* -------------------------------------------------------------- pages */

const LETTER = /\p{L}/u;
const web = join(root, "web");
const htmlFiles = walk(web, ".html");
const jsFiles = walk(web, ".js").filter((p) => !p.includes(`${join("web", "i18n")}`) && !p.includes("vendor"));
const notYet = [];

function checkHtml(file) {
  const rel = relative(root, file);
  let src = read(file);
  if (!/<html[^>]*\bdata-i18n-page\b/.test(src)) { notYet.push(rel); return; }
  src = src.replace(/<!--[\s\S]*?-->/g, "").replace(/<!doctype[^>]*>/i, "").replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/g, "");
  // Walk tags keeping a stack of "is this element translated".
  const stack = [];
  const re = /<(\/?)([a-zA-Z][\w-]*)([^>]*)>|([^<]+)/g;
  const VOID = new Set(["meta", "link", "input", "br", "img", "hr", "source"]);
  for (const m of src.matchAll(re)) {
    if (m[4] !== undefined) {
      const text = m[4].replace(/&[a-z]+;|&#\d+;/g, "").trim();
      if (text && LETTER.test(text) && !stack.some((s) => s.translated)) {
        const where = stack.length ? stack[stack.length - 1].tag : "document";
        fail(`${rel}: <${where}> shows "${text.slice(0, 40)}" without data-i18n`);
      }
      continue;
    }
    const [, close, tag, attrs] = m;
    const name = tag.toLowerCase();
    if (close) {
      while (stack.length && stack.pop().tag !== name) { /* unclosed children */ }
      continue;
    }
    for (const attr of ["placeholder", "aria-label", "title", "alt"]) {
      const a = new RegExp(`(?:^|\\s)${attr}="([^"]*)"`).exec(attrs);
      if (a && LETTER.test(a[1]) && !new RegExp(`data-i18n-${attr}="`).test(attrs)) fail(`${rel}: <${name} ${attr}="${a[1]}"> without data-i18n-${attr}`);
    }
    // translate="no" marks data that is the same in every language (an IANA time zone name).
    if (!VOID.has(name) && !attrs.trim().endsWith("/")) stack.push({ tag: name, translated: /\bdata-i18n="|\btranslate="no"/.test(attrs) });
  }
}

/** The source with comments blanked (strings kept), so positions stay. */
function stripComments(src) {
  let out = "";
  for (let i = 0; i < src.length;) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") { while (i < src.length && src[i] !== "\n") { out += " "; i++; } continue; }
    if (c === "/" && src[i + 1] === "*") { const end = src.indexOf("*/", i + 2) + 2 || src.length; out += src.slice(i, end).replace(/[^\n]/g, " "); i = end; continue; }
    if (c === '"' || c === "'" || c === "`") { const end = skipString(src, i); out += src.slice(i, end); i = end; continue; }
    out += c; i++;
  }
  return out;
}

/** Index just past the string/template starting at i. */
function skipString(src, i) {
  const q = src[i];
  let j = i + 1;
  while (j < src.length && src[j] !== q) {
    if (src[j] === "\\") j++;
    else if (q === "`" && src[j] === "$" && src[j + 1] === "{") j = skipBalanced(src, j + 1) - 1;
    j++;
  }
  return j + 1;
}

/** Index just past the bracket group opening at i ("(", "[" or "{"). */
function skipBalanced(src, i) {
  let depth = 0;
  for (let j = i; j < src.length; j++) {
    const c = src[j];
    if (c === '"' || c === "'" || c === "`") { j = skipString(src, j) - 1; continue; }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") { depth--; if (depth === 0) return j + 1; }
  }
  return src.length;
}

/** The top-level comma-separated arguments of the call whose "(" is at i. */
function callArgs(src, i) {
  const end = skipBalanced(src, i) - 1;
  const args = [];
  let start = i + 1;
  for (let j = i + 1; j < end; j++) {
    const c = src[j];
    if (c === '"' || c === "'" || c === "`") { j = skipString(src, j) - 1; continue; }
    if (c === "(" || c === "[" || c === "{") { j = skipBalanced(src, j) - 1; continue; }
    if (c === ",") { args.push(src.slice(start, j)); start = j + 1; }
  }
  if (src.slice(start, end).trim()) args.push(src.slice(start, end));
  return args;
}

/** The string literals of an expression outside any call's arguments or nested braces' keys, with letters outside ${}. */
function visibleLiterals(expr) {
  const out = [];
  for (let j = 0; j < expr.length; j++) {
    const c = expr[j];
    if (c === "(" || c === "{") {
      // A call's or an object's inside is checked where it is (h(), t()) or is not visible text.
      if (c === "(" && /[\w$.\])]\s*$/.test(expr.slice(0, j))) { j = skipBalanced(expr, j) - 1; continue; }
      if (c === "{") { j = skipBalanced(expr, j) - 1; continue; }
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const end = skipString(expr, j);
      const lit = expr.slice(j + 1, end - 1);
      const bare = c === "`" ? lit.replace(/\$\{[\s\S]*?\}/g, "") : lit;
      // A literal compared with (x === "send") is a value, not text shown.
      const compared = /[=!]==?\s*$/.test(expr.slice(0, j)) || /^\s*[=!]==?/.test(expr.slice(end));
      if (LETTER.test(bare) && !compared) out.push(lit);
      j = end - 1;
    }
  }
  return out;
}

function checkJs(file) {
  const rel = relative(root, file);
  const raw = read(file);
  if (!/from\s+["'][./]*(?:i18n\/)?i18n\.js["']/.test(raw)) { notYet.push(rel); return; }
  const src = stripComments(raw);
  const line = (i) => src.slice(0, i).split("\n").length;
  // Keys given to t(), tn(), tNodes() must exist.
  for (const m of src.matchAll(/\b(?:t|tn|tNodes)\(\s*(["'])([\w.-]+)\1/g)) {
    if (!allKeys.has(m[2])) fail(`${rel}:${line(m.index)}: t("${m[2]}") is in no catalog`);
  }
  // data-i18n keys set from JS: { "data-i18n": "key" } and dataset.i18n = "key".
  for (const m of src.matchAll(/(?:"data-i18n(?:-[a-z-]+)?"\s*:|dataset\.i18n\s*=)\s*(["'])([\w.-]+)\1/g)) {
    if (!allKeys.has(m[2])) fail(`${rel}:${line(m.index)}: data-i18n "${m[2]}" is in no catalog`);
  }
  // Children of h(tag, attrs, ...children).
  for (const m of src.matchAll(/\bh\(/g)) {
    const open = m.index + 1;
    const args = callArgs(src, open);
    for (const arg of args.slice(2)) for (const lit of visibleLiterals(arg)) fail(`${rel}:${line(m.index)}: h() child "${lit.slice(0, 40)}" is not from the catalogs`);
    if (args[1]) {
      for (const a of args[1].matchAll(/(?:^|[{,\s])(?:title|placeholder|alt|"aria-label"|label)\s*:\s*(["'`])((?:(?!\1)[\s\S])*)\1/g)) {
        if (LETTER.test(a[2].replace(/\$\{[\s\S]*?\}/g, ""))) fail(`${rel}:${line(m.index)}: attribute text "${a[2].slice(0, 40)}" is not from the catalogs`);
      }
    }
  }
  // Assignments to visible properties and the browser's dialogs.
  for (const m of src.matchAll(/\.(?:textContent|innerText|title|placeholder|alt)\s*=(?!=)/g)) {
    const start = m.index + m[0].length;
    const end = src.indexOf(";", start);
    for (const lit of visibleLiterals(src.slice(start, end < 0 ? undefined : end))) fail(`${rel}:${line(m.index)}: "${lit.slice(0, 40)}" is assigned as visible text, not from the catalogs`);
  }
  for (const m of src.matchAll(/\b(?:prompt|confirm|alert)\(/g)) {
    for (const arg of callArgs(src, m.index + m[0].length - 1)) for (const lit of visibleLiterals(arg)) fail(`${rel}:${line(m.index)}: dialog text "${lit.slice(0, 40)}" is not from the catalogs`);
  }
}

for (const f of htmlFiles) checkHtml(f);
for (const f of jsFiles) checkJs(f);

if (notYet.length) console.log(`not yet localised (not checked): ${notYet.sort().join(", ")}`);
console.log(`${allKeys.size} keys in ${LANGS.length} catalogs; ${codes.size} server error codes and ${reasons.size} input reasons covered`);
if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  console.error(`${problems.length} problem(s)`);
  process.exit(1);
}
console.log("i18n check: ok");
