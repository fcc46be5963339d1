#!/usr/bin/env bash
# metrics_test.sh BINARY - /metrics with --metrics-token: no token or a wrong
# one is 401, the right one gets the text, which shows the run time beyond
# HTTP: the ledger's queue, batch sizes, commit latency and transfers by
# result (moved by a deposit), WebSocket drops, messenger pushes and the
# listening feed.  A token too short keeps serve from starting.
set -euo pipefail
bin="$1"
dir="$(mktemp -d /tmp/sb-metrics-test-XXXXXX)"
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/serve.log" ] && tail -5 "$dir/serve.log" >&2; exit 1; }
token="metrics-secret-0123456789abcdef"

"$bin" demo --data "$dir/data" >/dev/null 2>&1 || fail "demo"
. "$(dirname "$0")/serve_lib.sh"
SOCIALBANK_METRICS_TOKEN="$token" sb_serve_start "$bin" "$dir/serve.log" --data "$dir/data" --threads 2 \
  --web "$dir/noweb" || fail "serve did not start"
url="http://127.0.0.1:$port/metrics"

code="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
[ "$code" = 401 ] || fail "no token: $code, want 401"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token}x" "$url")"
[ "$code" = 401 ] || fail "wrong token: $code, want 401"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token:0:20}" "$url")"
[ "$code" = 401 ] || fail "a prefix of the token: $code, want 401"

admin="$(sb_admin_token "http://127.0.0.1:$port")" || fail "admin login"
user_id="$(sqlite3 "$dir/data/socialbank.db" "SELECT MIN(id) FROM users WHERE role = 'customer'")"
curl -sf -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d "{\"user_id\":$user_id,\"amount_minor\":500,\"idempotency_key\":\"metrics-1\"}" \
  "http://127.0.0.1:$port/api/admin/deposits" || fail "deposit"

text="$(curl -sf -H "Authorization: Bearer $token" "$url")" || fail "the right token was refused"
for want in 'sb_http_requests_total{' 'sb_ledger_queue_transfers ' 'sb_ledger_batch_size_bucket{le="+Inf"}' \
  'sb_ledger_commit_duration_seconds_bucket{le="0.001000000"}' 'sb_ledger_halted 0' \
  'sb_websocket_dropped_total ' 'sb_messenger_pushes_total{outcome="pushed"}' \
  'sb_listening_feed_posts_total{outcome="dropped"}'; do
  grep -qF "$want" <<<"$text" || fail "/metrics lacks $want"
done
ok="$(grep -F 'sb_ledger_transfers_total{result="ok"}' <<<"$text" | awk '{print $2}')"
[ -n "$ok" ] && [ "$ok" -ge 1 ] || fail "no committed ok transfer counted: '$ok'"
batches="$(grep '^sb_ledger_commit_duration_seconds_count' <<<"$text" | awk '{print $2}')"
[ "$batches" -ge 1 ] || fail "no commit in the latency histogram"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""

set +e
SOCIALBANK_METRICS_TOKEN=short timeout 20 "$bin" serve --data "$dir/data" --port 0 --web "$dir/noweb" 2>"$dir/short.log"
rc=$?
set -e
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "serve with a short metrics token exited $rc"
grep -q "metrics token must be" "$dir/short.log" || fail "no message about the short token"
echo "2 passed, 0 failed"
