#!/usr/bin/env bash
# install_test.sh BUILD_DIR - `cmake --install` into a temporary DESTDIR puts
# the binary, the web files, the default model, the unit and the docs where
# a system expects them, and the installed binary, given no --web and no
# model, serves /healthz, the installed web console and understands posts
# with the installed model.  The unit passes `systemd-analyze verify` when
# that tool can run here.
set -euo pipefail
build="$(cd "$1" && pwd)"
dir="$(mktemp -d /tmp/sb-install-test-XXXXXX)"
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/serve.log" ] && tail -5 "$dir/serve.log" >&2; exit 1; }
prefix=/opt/socialbank-test
root="$dir/root"

DESTDIR="$root" cmake --install "$build" --prefix "$prefix" >"$dir/install.log" 2>&1 ||
  fail "cmake --install: $(tail -3 "$dir/install.log")"
p="$root$prefix"
for f in bin/socialbank share/socialbank/web/index.html share/socialbank/web/chat.html \
  share/socialbank/models/default.sbm lib/systemd/system/socialbank.service lib/sysusers.d/socialbank.conf \
  share/socialbank/examples/socialbank.env share/doc/socialbank/OPERATIONS.md; do
  [ -e "$p/$f" ] || fail "not installed: $f"
done
[ -x "$p/bin/socialbank" ] || fail "the binary is not executable"
grep -q "^ExecStart=$prefix/bin/socialbank serve$" "$p/lib/systemd/system/socialbank.service" ||
  fail "ExecStart does not name the installed binary: $(grep ExecStart "$p/lib/systemd/system/socialbank.service")"
for opt in ProtectSystem=strict NoNewPrivileges=yes StateDirectory=socialbank PrivateTmp=yes User=socialbank; do
  grep -q "^$opt$" "$p/lib/systemd/system/socialbank.service" || fail "the unit lacks $opt"
done

# The installed binary, run from elsewhere, finds its web files and model.
. "$(dirname "$0")/serve_lib.sh"
cd "$dir"
sb_serve_start "$p/bin/socialbank" "$dir/serve.log" --data "$dir/data" --threads 1 ||
  fail "the installed binary did not start"
curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"status":"ok"' || fail "/healthz"
curl -sf "http://127.0.0.1:$port/" -o "$dir/index.html" || fail "GET / (the installed web console)"
cmp -s "$dir/index.html" "$p/share/socialbank/web/index.html" || fail "GET / is not the installed index.html"
grep -q "understanding posts with the model $p/bin/../share/socialbank/models/default.sbm" "$dir/serve.log" ||
  fail "the installed model was not loaded: $(grep listening.model "$dir/serve.log")"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""

if command -v systemd-analyze >/dev/null 2>&1; then
  # verify checks that ExecStart exists: point it at the staged binary.
  sed "s|$prefix/bin/socialbank|$p/bin/socialbank|" "$p/lib/systemd/system/socialbank.service" >"$dir/socialbank.service"
  if systemd-analyze verify "$dir/socialbank.service" >"$dir/analyze.log" 2>&1; then
    echo "systemd-analyze verify: ok"
  elif grep -qi "socialbank.service" "$dir/analyze.log" && ! grep -qiE "failed to (connect|create|initialize)|not been booted|No such file or directory.*(bus|manager)" "$dir/analyze.log"; then
    fail "systemd-analyze verify: $(cat "$dir/analyze.log")"
  else
    echo "systemd-analyze verify could not run here: $(head -2 "$dir/analyze.log")"
  fi
fi
echo "2 passed, 0 failed"
