// run.mjs - ctest's browser.console: check that chromium and playwright-core
// are there (skip with the reason only when chromium is missing outside CI),
// then run every tests/browser/*.test.mjs with node's test runner, one file
// at a time (each starts its own server).

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumPath, loadPlaywright } from "./harness.mjs";

chromiumPath();
await loadPlaywright();
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith(".test.mjs") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort().map((f) => join(here, f));
if (files.length === 0) {
  console.error("browser tests: no test files");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
