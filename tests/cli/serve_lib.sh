# serve_lib.sh - sourced by the CLI tests that run a server (store, media_restore, metrics,
# tls, install): start `serve` on a free port and log in as the demo admin.

# sb_test_dir NAME: a fresh temporary directory in $dir and an empty $pids;
# when the test exits, every server in $pids is stopped and $dir removed.
sb_test_dir() {
  dir="$(mktemp -d "/tmp/sb-$1-XXXXXX")"
  pids=()
  trap sb_test_cleanup EXIT
}
sb_test_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}

# sb_serve_start BINARY LOG ARGS...: start `BINARY serve --port 0 ARGS...`
# with stderr in LOG; sets $port (read from the http.listen log line) and
# $serve_pid.  Returns 1 if it has not listened within 10 s.
sb_serve_start() {
  local bin="$1" log="$2"
  shift 2
  "$bin" serve --port 0 "$@" 2>"$log" &
  serve_pid=$!
  port=""
  for _ in $(seq 1 200); do
    port="$(grep -o '"event":"http.listen".*"port":[0-9]*' "$log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  return 1
}

# sb_admin_token URL [CURL_ARGS...]: the bearer token of the demo's admin
# (password socialbank-demo) from URL's login route, on stdout.
sb_admin_token() {
  local url="$1"
  shift
  curl -sf "$@" -H 'Content-Type: application/json' -d '{"username":"admin","password":"socialbank-demo"}' \
    "$url/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
