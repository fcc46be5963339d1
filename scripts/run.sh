#!/usr/bin/env bash
# run.sh BINARY DATA_DIR PORT - what `make run` does after building: migrate
# the SQLite database in DATA_DIR, load the demo data once, print the console
# URL and serve until Ctrl-C.  The web directory is the one the build
# assembled beside the binary (web/ plus uPlot), else the source web/.
set -euo pipefail
bin="$1"; data="$2"; port="$3"
mkdir -p "$data"
"$bin" migrate --data "$data"
if "$bin" help 2>/dev/null | grep -q '^  demo '; then
  "$bin" demo --data "$data"
fi
web="$(dirname "$bin")/web"
[ -d "$web" ] || web="$(dirname "$0")/../web"
echo "SocialBank console: http://127.0.0.1:${port}/   customer web chat: http://127.0.0.1:${port}/chat.html"
exec "$bin" serve --data "$data" --port "$port" --bind 127.0.0.1 --web "$web"
