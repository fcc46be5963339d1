#!/usr/bin/env bash
# deps.sh - install every Debian and npm package the build, the server, the
# tests and the benchmarks need, and only what is missing (idempotent).
# Runs apt-get as root, or through sudo for a developer.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries (VISION.md's stack)
  libh2o-evloop-dev libwslay-dev libssl-dev zlib1g-dev libjansson-dev libsqlite3-dev libsodium-dev libutf8proc-dev
  # ICU: its spoof checker's confusable skeletons (UTS #39) for names customers choose
  libicu-dev
  # libvips: photos in chats are decoded, stripped of metadata, re-encoded and thumbnailed
  libvips-dev
  # outbound HTTPS (core/http_client.c)
  libcurl4-openssl-dev
  # tests and tools
  libcmocka-dev sqlite3 curl python3
  # the Bot API's integration test drives the server with a Telegram client nobody here wrote
  python3-python-telegram-bot
  # the console's browser tests: Node.js for playwright-core, which drives Debian's chromium
  nodejs chromium
  # benchmarks: wrk against our server and nginx; fastText as the classifier to beat
  wrk nginx-light fasttext
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# npm: Debian's package, unless a Node.js build that bundles npm is installed.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: done" >&2
fi

# npm packages (uPlot for the console's charts, playwright-core for the
# browser tests), when package.json lists any.  playwright-core never
# downloads a browser; the tests use Debian's /usr/bin/chromium.
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "deps: npm install" >&2
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
