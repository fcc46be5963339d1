// harness.mjs - what the browser tests share: start the real server (the
// built binary) on a free port with a fresh data directory and the demo
// data, read one-time codes from its log, and launch Debian's chromium
// headless through playwright-core (which never downloads a browser).
//
// Environment: SB_BINARY (the socialbank binary), SB_WEB_DIR (the assembled
// web directory), SB_CHROMIUM (default /usr/bin/chromium), CI (when set, a
// missing chromium is a failure, not a skip).

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const SKIP = 77; // ctest's SKIP_RETURN_CODE for this test

/** Exit 77 (skip) with the reason when chromium is missing, unless in CI where that fails. */
export function chromiumPath() {
  const path = process.env.SB_CHROMIUM || "/usr/bin/chromium";
  if (existsSync(path)) return path;
  const why = `browser tests: ${path} is not installed (scripts/deps.sh installs Debian's chromium)`;
  if (process.env.CI) {
    console.error(`${why}; CI must run them: failing`);
    process.exit(1);
  }
  console.log(`SKIP ${why}`);
  process.exit(SKIP);
}

export async function loadPlaywright() {
  try {
    return await import("playwright-core");
  } catch (e) {
    console.error(`browser tests: playwright-core is not installed (run scripts/deps.sh, which runs npm install): ${e.message}`);
    process.exit(1);
  }
}

/** A server on a free port with the demo data; call stop() when done. */
export async function startServer() {
  const bin = process.env.SB_BINARY;
  const web = process.env.SB_WEB_DIR;
  if (!bin || !existsSync(bin)) throw new Error(`SB_BINARY (${bin}) is not the built socialbank binary`);
  if (!web || !existsSync(join(web, "index.html"))) throw new Error(`SB_WEB_DIR (${web}) has no index.html (build the 'web' target)`);
  const data = mkdtempSync(join(tmpdir(), "sb-browser-"));
  for (const args of [["migrate", "--data", data], ["demo", "--data", data]]) {
    const r = spawnSync(bin, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`socialbank ${args[0]} failed (${r.status}): ${r.stderr}`);
  }
  const logPath = join(data, "server.log");
  const child = spawn(bin, ["serve", "--data", data, "--port", "0", "--bind", "127.0.0.1", "--web", web, "--threads", "2"],
                      { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  let exited = null;
  child.on("exit", (code, signal) => { exited = { code, signal }; });

  let port = null;
  for (let i = 0; i < 200 && port === null; i++) {
    if (exited) throw new Error(`server exited early (${JSON.stringify(exited)}):\n${log}`);
    const m = /"event":"http\.listen"[^\n]*"port":(\d+)/.exec(log);
    if (m) port = Number(m[1]);
    else await sleep(50);
  }
  if (port === null) throw new Error(`server did not report its port in 10 s:\n${log}`);

  return {
    url: `http://127.0.0.1:${port}`,
    data,
    log: () => log,
    /** The newest one-time code logged for phone (E.164) after `since` log characters. */
    async otp(phone, since = 0) {
      for (let i = 0; i < 200; i++) {
        let code = null;
        for (const line of log.slice(since).split("\n")) {
          if (!line.includes('"otp.code"')) continue;
          try {
            const ev = JSON.parse(line);
            if (ev.phone === phone) code = ev.code;
          } catch { /* a partial line */ }
        }
        if (code) return code;
        await sleep(50);
      }
      throw new Error(`no one-time code for ${phone} in the server log`);
    },
    /** Stop with SIGTERM; throws when the server did not exit 0 (a crash, or a
     *  sanitizer report in the ASan build), with the end of its log. */
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        for (let i = 0; i < 100 && !exited; i++) await sleep(50);
        if (!exited) child.kill("SIGKILL");
      }
      if (process.env.SB_KEEP_DATA) console.log(`data kept in ${data}`);
      else rmSync(data, { recursive: true, force: true });
      if (!exited || exited.code !== 0)
        throw new Error(`the server did not stop cleanly (${JSON.stringify(exited)}):\n${log.slice(-4000)}`);
      return exited;
    },
  };
}

/** Timeouts of every page action: generous, since the machine may be loaded
 *  (the waits end as soon as the condition holds; a failure still fails). */
export const ACTION_TIMEOUT_MS = 60000;

/** A new browser context (one person) whose pages report their errors into `errors`. */
export async function newPerson(browser, errors, name, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  // the pages' Content-Security-Policy must never block anything they do
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(`${name}: ${m.text()}`);
  });
  return page;
}

export async function launch(pw) {
  return pw.chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** Sign a customer in on /chat.html through the real one-time-code path;
 *  lang switches the page (and the profile) to that language afterwards. */
export async function customerSignIn(server, page, phoneTyped, phoneE164, { lang } = {}) {
  await page.goto(`${server.url}/chat.html`);
  await page.fill("#phone-form input[name=phone]", phoneTyped);
  const since = server.log().length;
  await page.click("#phone-form button[type=submit]");
  await page.waitForSelector("#code-form:not([hidden])");
  const code = await server.otp(phoneE164, since);
  await page.fill("#code-form input[name=code]", code);
  await page.click("#code-form button[type=submit]");
  await page.waitForSelector("#app:not([hidden])");
  if (lang) {
    await page.selectOption("#lang", lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  }
}

/** Sign a staff member in on the console. */
export async function staffSignIn(server, page, username) {
  await page.goto(`${server.url}/`);
  await page.fill("#login-form input[name=username]", username);
  await page.fill("#login-form input[name=password]", "socialbank-demo");
  await page.click("#login-form button[type=submit]");
}

/** Call the server's API from the test (fetch): {status, data}. */
export async function apiCall(server, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const res = await fetch(`${server.url}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, data };
}

/** A staff member's bearer token. */
export async function staffToken(server, username) {
  const r = await apiCall(server, "POST", "/api/auth/login", { body: { username, password: "socialbank-demo" } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data.token;
}
