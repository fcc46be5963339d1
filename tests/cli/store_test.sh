#!/usr/bin/env bash
# store_test.sh BINARY - `socialbank backup` and `socialbank restore` from the
# command line.  A store with payments, a group chat and a channel post (demo)
# is served while two load loops deposit money over HTTP; a backup is taken
# during that load; it restores into an empty directory, verifies, is served
# and answers queries (the admin's ledger check, the deposits it holds).
# restore refuses a directory that is not empty, a damaged file and a
# backup whose ledger does not verify, leaving the directory as it was.
set -euo pipefail
bin="$1"
. "$(dirname "$0")/serve_lib.sh"
sb_test_dir store-test
fail() { echo "FAIL: $*" >&2; [ -f "$dir/serve.log" ] && tail -5 "$dir/serve.log" >&2; exit 1; }
passed=0

# serve DATA LOG: start a server on a free port, set $port and $serve_pid.
serve() {
  sb_serve_start "$bin" "$2" --data "$1" --threads 2 --web "$dir/noweb" || fail "serve did not start on $1"
  pids+=("$serve_pid")
}
login() { sb_admin_token "http://127.0.0.1:$1"; }
count() { sqlite3 "$1" "$2"; }

# ---- a store with payments, chats and posts, served under load ----
"$bin" demo --data "$dir/live" >/dev/null 2>&1 || fail "demo"
serve "$dir/live" "$dir/serve.log"
live_port=$port
token="$(login "$live_port")" || fail "admin login"
user_id="$(count "$dir/live/socialbank.db" "SELECT MIN(id) FROM users WHERE role = 'customer'")"
load() { # load N: deposits with unique keys until killed
  local i=0
  while :; do
    i=$((i + 1))
    curl -s -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"user_id\":$user_id,\"amount_minor\":1000,\"idempotency_key\":\"load-$1-$i\"}" \
      "http://127.0.0.1:$live_port/api/admin/deposits" || true
  done
}
load a & pids+=($!)
load b & pids+=($!)
sleep 1
before="$(count "$dir/live/socialbank.db" "SELECT COUNT(*) FROM ledger_transfers")"
out="$("$bin" backup --data "$dir/live" "$dir/backup.db")" || fail "backup under load exited $?"
grep -q "backup written to $dir/backup.db" <<<"$out" || fail "backup said: $out"
sleep 0.5
after="$(count "$dir/live/socialbank.db" "SELECT COUNT(*) FROM ledger_transfers")"
[ "$after" -gt "$before" ] || fail "no load while backing up ($before then $after transfers)"
[ ! -e "$dir/backup.db.db-partial" ] || fail "backup left its temporary file"
in_backup="$(count "$dir/backup.db" "SELECT COUNT(*) FROM ledger_transfers")"
[ "$in_backup" -ge "$before" ] || fail "the backup holds $in_backup transfers, fewer than $before before it"
[ "$(count "$dir/backup.db" "PRAGMA integrity_check")" = ok ] || fail "backup integrity"
passed=$((passed + 1))

# backup usage errors: no destination (2), a destination that cannot be written (1)
set +e
"$bin" backup --data "$dir/live" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "backup without DEST exited $rc, want 2"
"$bin" backup --data "$dir/live" "$dir/no/such/dir/b.db" >/dev/null 2>&1; rc=$?
[ "$rc" = 1 ] || fail "backup into a missing directory exited $rc, want 1"
set -e
passed=$((passed + 1))

# ---- restore elsewhere, verify, serve it and query ----
out="$("$bin" restore --data "$dir/restored" "$dir/backup.db")" || fail "restore exited $?: $out"
grep -q "ledger ok" <<<"$out" || fail "restore did not report its checks: $out"
[ "$(ls -A "$dir/restored" | tr '\n' ' ')" = "media socialbank.db " ] || fail "restore left: $(ls -A "$dir/restored")"
"$bin" ledger verify --data "$dir/restored" >/dev/null 2>&1 || fail "ledger verify of the restored store"
for table in ledger_transfers msg_messages msg_chats users; do
  a="$(count "$dir/backup.db" "SELECT COUNT(*) FROM $table")"
  b="$(count "$dir/restored/socialbank.db" "SELECT COUNT(*) FROM $table")"
  [ "$a" = "$b" ] || fail "$table: $a in the backup, $b restored"
done
serve "$dir/restored" "$dir/serve2.log"
token2="$(login "$port")" || fail "admin login on the restored store"
job="$(curl -sf -X POST -H "Authorization: Bearer $token2" "http://127.0.0.1:$port/api/admin/ledger/verify" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')" || fail "ledger verify job on the restored store"
verify=""
for _ in $(seq 1 600); do
  verify="$(curl -sf -H "Authorization: Bearer $token2" "http://127.0.0.1:$port/api/admin/ledger/verify/$job")" ||
    fail "polling the verify job"
  grep -q '"state":"running"' <<<"$verify" || break
  sleep 0.05
done
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); r=j["result"]; sys.exit(0 if j["state"]=="done" and r["ok"] and r["transfers"]==int(sys.argv[2]) else 1)' \
  "$verify" "$in_backup" || fail "restored server's verify: $verify (want $in_backup transfers)"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
passed=$((passed + 1))

# ---- refusals leave the directory as it was ----
set +e
"$bin" restore --data "$dir/restored" "$dir/backup.db" >/dev/null 2>&1; rc=$?
[ "$rc" = 1 ] || fail "restore over a store exited $rc, want 1"
"$bin" ledger verify --data "$dir/restored" >/dev/null 2>&1 || fail "the refused restore touched the store"
head -c 100000 "$dir/backup.db" >"$dir/truncated.db"
"$bin" restore --data "$dir/r2" "$dir/truncated.db" >/dev/null 2>&1; rc=$?
[ "$rc" = 1 ] || fail "restore of a truncated file exited $rc, want 1"
[ ! -e "$dir/r2" ] || fail "a failed restore left $dir/r2: $(ls -A "$dir/r2")"
cp "$dir/backup.db" "$dir/tampered.db"
sqlite3 "$dir/tampered.db" "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE num = (SELECT MAX(num) FROM ledger_accounts)"
mkdir "$dir/r3"
"$bin" restore --data "$dir/r3" "$dir/tampered.db" >/dev/null 2>"$dir/err"; rc=$?
[ "$rc" = 1 ] || fail "restore of a backup whose ledger is off exited $rc, want 1"
grep -q "ledger verify failed" "$dir/err" || fail "no ledger verify message: $(cat "$dir/err")"
[ -z "$(ls -A "$dir/r3")" ] || fail "a failed restore left files: $(ls -A "$dir/r3")"
"$bin" restore --data "$dir/r4" "$dir/missing.db" >/dev/null 2>&1; rc=$?
[ "$rc" = 1 ] || fail "restore of a missing file exited $rc, want 1"
"$bin" restore --data "$dir/r4" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "restore without BACKUP exited $rc, want 2"
set -e
passed=$((passed + 1))
echo "$passed passed, 0 failed"
