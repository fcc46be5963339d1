#!/usr/bin/env bash
# http.sh - HTTP throughput of `socialbank serve` on GET /healthz, against
# nginx serving the very same bytes from a `return 200` on the same machine,
# in the same run, with the same wrk settings.
#
#   bench/run.sh build/release http     (or: make bench-http)
#
# Each server is measured twice in the order socialbank, nginx, nginx,
# socialbank and the two runs are averaged.
# Both servers get 2 threads/workers on loopback, each with its own
# SO_REUSEPORT listening socket (socialbank always, nginx by "reuseport", so
# the kernel spreads connections the same way); wrk uses one thread and 64
# connections.  Prints requests/s and the 99th-percentile latency of both,
# then exactly one summary line:
#   bench: http value=N unit=req/s baseline=nginx baseline_value=N ratio=R p99_ms=P nginx_p99_ms=Q
# Every process it starts is stopped on exit (trap), whatever happens.
# Environment: SB_BINARY (set by bench/run.sh), BENCH_HTTP_SECONDS (per run, default 6),
# BENCH_HTTP_CONNECTIONS (default 64).
set -euo pipefail

: "${SB_BINARY:?run through bench/run.sh BUILD http}"
seconds="${BENCH_HTTP_SECONDS:-6}"
connections="${BENCH_HTTP_CONNECTIONS:-64}"
threads=2
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "http.sh: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x "$nginx_bin" ] || { echo "http.sh: nginx is missing (Debian package nginx-light)" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sb-bench-http-XXXXXX")"
sb_pid=""
nginx_pid=""

# Stop one process group we started: TERM, wait up to 10 s, then KILL.
stop_group() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_group "$sb_pid"
  stop_group "$nginx_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Wait (at most 30 s) until GET url answers 200.
wait_ready() {
  local url="$1" name="$2" pid="$3"
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null --max-time 1 "$url"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "http.sh: $name exited during start" >&2; return 1; }
    sleep 0.1
  done
  echo "http.sh: $name did not answer $url within 30 s" >&2
  return 1
}

# --- socialbank ---
sb_port="$(free_port)"
mkdir -p "$tmp/data" "$tmp/web"
echo '<!doctype html><title>bench</title>' >"$tmp/web/index.html"
"$SB_BINARY" migrate --data "$tmp/data" >/dev/null
setsid "$SB_BINARY" serve --port "$sb_port" --bind 127.0.0.1 --data "$tmp/data" --web "$tmp/web" \
  --threads "$threads" --log-level warn --otp-sender log 2>"$tmp/socialbank.log" &
sb_pid=$!
wait_ready "http://127.0.0.1:$sb_port/healthz" socialbank "$sb_pid" || { tail -20 "$tmp/socialbank.log" >&2; exit 1; }

# The exact body and type socialbank answers, for nginx to return.
body="$(curl -fs "http://127.0.0.1:$sb_port/healthz")"
case "$body" in
  *\'* | *\\* | *\$*) echo "http.sh: /healthz body has characters nginx's return would change: $body" >&2; exit 1 ;;
esac
sb_type="$(curl -fs -o /dev/null -w '%{content_type}' "http://127.0.0.1:$sb_port/healthz")"

# --- nginx ---
nginx_port="$(free_port)"
mkdir -p "$tmp/nginx/tmp"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $threads;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/tmp/body;
    proxy_temp_path $tmp/nginx/tmp/proxy;
    fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
    scgi_temp_path $tmp/nginx/tmp/scgi;
    keepalive_requests 1000000;
    charset utf-8;
    charset_types application/json;
    server {
        listen 127.0.0.1:$nginx_port reuseport;
        location = /healthz {
            default_type application/json;
            return 200 '$body';
        }
    }
}
EOF
setsid "$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" 2>>"$tmp/nginx/error.log" &
nginx_pid=$!
wait_ready "http://127.0.0.1:$nginx_port/healthz" nginx "$nginx_pid" || { cat "$tmp/nginx/error.log" >&2; exit 1; }

nginx_body="$(curl -fs "http://127.0.0.1:$nginx_port/healthz")"
nginx_type="$(curl -fs -o /dev/null -w '%{content_type}' "http://127.0.0.1:$nginx_port/healthz")"
if [ "$nginx_body" != "$body" ]; then
  echo "http.sh: bodies differ: socialbank '$body' nginx '$nginx_body'" >&2
  exit 1
fi
echo "http.sh: both answer ${#body} bytes: $body (socialbank: $sb_type; nginx: $nginx_type)" >&2

# --- measure ---
# Parse wrk --latency output: "Requests/sec: N" and the "99%" latency in ms.
parse_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
parse_p99_ms() {
  awk '$1 == "99%" {
    v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
    if (unit == "us") v = v / 1000; else if (unit == "s") v = v * 1000; else if (unit == "m") v = v * 60000;
    printf "%.3f\n", v }' "$1"
}
run_wrk() {
  local name="$1" port="$2" out="$tmp/wrk-$1-$3.txt"
  wrk -t1 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/healthz" >"$out" 2>&1
  if grep -q -e "Non-2xx" -e "Socket errors" "$out"; then
    echo "http.sh: $name had errors under load:" >&2
    cat "$out" >&2
    exit 1
  fi
  echo "== $name, run $3 (wrk -t1 -c$connections -d${seconds}s --latency)" >&2
  cat "$out" >&2
}

echo "http.sh: warming up" >&2
wrk -t1 -c16 -d2s "http://127.0.0.1:$sb_port/healthz" >/dev/null 2>&1
wrk -t1 -c16 -d2s "http://127.0.0.1:$nginx_port/healthz" >/dev/null 2>&1

# ABBA order, so that a machine getting busier or quieter during the run
# (other work on a shared box) favours neither server.
run_wrk socialbank "$sb_port" 1
run_wrk nginx "$nginx_port" 1
run_wrk nginx "$nginx_port" 2
run_wrk socialbank "$sb_port" 2

mean2() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") exit 1; printf "%.3f\n", (a + b) / 2 }'; }
sb_rps="$(mean2 "$(parse_rps "$tmp/wrk-socialbank-1.txt")" "$(parse_rps "$tmp/wrk-socialbank-2.txt")")" || sb_rps=""
ng_rps="$(mean2 "$(parse_rps "$tmp/wrk-nginx-1.txt")" "$(parse_rps "$tmp/wrk-nginx-2.txt")")" || ng_rps=""
sb_p99="$(mean2 "$(parse_p99_ms "$tmp/wrk-socialbank-1.txt")" "$(parse_p99_ms "$tmp/wrk-socialbank-2.txt")")" || sb_p99=""
ng_p99="$(mean2 "$(parse_p99_ms "$tmp/wrk-nginx-1.txt")" "$(parse_p99_ms "$tmp/wrk-nginx-2.txt")")" || ng_p99=""
if [ -z "$sb_rps" ] || [ -z "$ng_rps" ] || [ -z "$sb_p99" ] || [ -z "$ng_p99" ]; then
  echo "http.sh: could not parse wrk's output" >&2
  exit 1
fi
echo "socialbank: $sb_rps req/s, p99 $sb_p99 ms (mean of 2 runs)" >&2
echo "nginx:      $ng_rps req/s, p99 $ng_p99 ms (mean of 2 runs)" >&2
awk -v v="$sb_rps" -v b="$ng_rps" -v p="$sb_p99" -v q="$ng_p99" 'BEGIN {
  printf "bench: http value=%d unit=req/s baseline=nginx baseline_value=%d ratio=%.3f p99_ms=%.3f nginx_p99_ms=%.3f\n",
    v + 0.5, b + 0.5, (b > 0 ? v / b : 0), p, q }'
