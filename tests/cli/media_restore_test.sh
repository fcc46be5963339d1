#!/usr/bin/env bash
# media_restore_test.sh BINARY - the media of chats go through `socialbank
# backup` and `socialbank restore`.  A customer sends a photo into the demo's
# group chat; the store is backed up while served, restored into an empty
# directory elsewhere and served from there: the photo and its thumbnail
# answer with the same bytes.  A backup whose BACKUP.media is gone restores a
# store whose photo is missing (404), which is what the media copy prevents;
# a media copy that fails leaves the data directory empty.
set -euo pipefail
bin="$1"
. "$(dirname "$0")/serve_lib.sh"
sb_test_dir media-restore
log="$dir/serve.log"
fail() { echo "FAIL: $*" >&2; [ -f "$log" ] && tail -5 "$log" >&2; exit 1; }

phone="+989121234567" # the demo's @ali, a member of the group chat
serve() {             # serve DATA: a server on a free port, its log in $log
  log="$dir/serve-$(basename "$1").log"
  sb_serve_start "$bin" "$log" --data "$1" --threads 2 --web "$dir/noweb" --otp-sender log ||
    fail "serve did not start on $1"
  pids+=("$serve_pid")
}
# customer_token: @ali's bearer token through the one-time code the log sender writes
customer_token() {
  curl -sf -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\"}" \
    "http://127.0.0.1:$port/api/auth/otp/request" >/dev/null || fail "otp request"
  local code=""
  for _ in $(seq 1 200); do
    code="$(grep '"otp.code"' "$log" | grep -F "\"$phone\"" | tail -1 |
      python3 -c 'import json,sys; l=sys.stdin.read().strip(); print(json.loads(l)["code"] if l else "")' || true)"
    [ -n "$code" ] && break
    sleep 0.05
  done
  [ -n "$code" ] || fail "no otp.code logged"
  curl -sf -H 'Content-Type: application/json' -d "{\"phone\":\"$phone\",\"code\":\"$code\"}" \
    "http://127.0.0.1:$port/api/auth/otp/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
# get PATH OUT: the status of GET PATH with the customer's token, body into OUT
get() { curl -s -o "$2" -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port$1"; }

# a 64x48 PNG with a gradient (no image library needed)
python3 - "$dir/photo.png" <<'EOF'
import struct, sys, zlib
w, h = 64, 48
rows = b"".join(b"\0" + b"".join(bytes((x * 4 % 256, y * 5 % 256, (x + y) % 256)) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
      chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF

# ---- a photo in the group chat of a served store ----
"$bin" demo --data "$dir/live" >/dev/null 2>&1 || fail "demo"
serve "$dir/live"
token="$(customer_token)" || fail "customer sign-in"
chat="$(sqlite3 "$dir/live/socialbank.db" "SELECT id FROM msg_chats WHERE kind = 'group' ORDER BY id LIMIT 1")"
[ -n "$chat" ] || fail "no group chat in the demo"
curl -sf -H "Authorization: Bearer $token" --data-binary @"$dir/photo.png" -o "$dir/upload.json" \
  "http://127.0.0.1:$port/api/chats/$chat/media?kind=photo&name=photo.png" || fail "upload"
read -r upload hash < <(python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["upload"]; print(u["id"], u["hash"])' \
  "$dir/upload.json")
curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "{\"upload_id\":$upload}" \
  "http://127.0.0.1:$port/api/chats/$chat/messages" >/dev/null || fail "send the photo"
[ "$(get "/api/media/$hash" "$dir/live.bin")" = 200 ] || fail "the photo on the live store"
[ "$(get "/api/media/$hash/thumb" "$dir/live-thumb.bin")" = 200 ] || fail "the thumbnail on the live store"

out="$("$bin" backup --data "$dir/live" "$dir/backup.db")" || fail "backup exited $?: $out"
[ -n "$(find "$dir/backup.db.media" -type f)" ] || fail "the backup holds no media files"

# ---- restore elsewhere, serve it, fetch the photo ----
out="$("$bin" restore --data "$dir/restored" "$dir/backup.db")" || fail "restore exited $?: $out"
serve "$dir/restored"
token="$(customer_token)" || fail "customer sign-in on the restored store"
[ "$(get "/api/media/$hash" "$dir/restored.bin")" = 200 ] || fail "the photo on the restored store"
cmp -s "$dir/live.bin" "$dir/restored.bin" || fail "the restored photo's bytes differ"
[ "$(get "/api/media/$hash/thumb" "$dir/restored-thumb.bin")" = 200 ] || fail "the thumbnail on the restored store"
cmp -s "$dir/live-thumb.bin" "$dir/restored-thumb.bin" || fail "the restored thumbnail's bytes differ"

# ---- without BACKUP.media the photo is gone: the copy above is what kept it ----
cp "$dir/backup.db" "$dir/bare.db"
"$bin" restore --data "$dir/bare" "$dir/bare.db" >/dev/null || fail "restore of a backup without media"
serve "$dir/bare"
token="$(customer_token)" || fail "customer sign-in on the bare store"
[ "$(get "/api/media/$hash" "$dir/bare.bin")" = 404 ] || fail "a store restored without media served the photo"

# ---- a media copy that fails leaves the data directory as it was ----
cp "$dir/backup.db" "$dir/broken.db"
cp -r "$dir/backup.db.media" "$dir/broken.db.media"
sub="$(find "$dir/broken.db.media" -mindepth 1 -maxdepth 1 -type d | head -1)"
mkdir "$sub/zz-not-a-file" # a directory where a file is expected: its copy fails
rc=0
"$bin" restore --data "$dir/r-broken" "$dir/broken.db" >/dev/null 2>"$dir/err" || rc=$?
[ "$rc" = 1 ] || fail "restore with a broken media copy exited $rc, want 1"
grep -q "media" "$dir/err" || fail "the failed media copy was not reported: $(cat "$dir/err")"
[ ! -e "$dir/r-broken" ] || fail "a failed media restore left: $(find "$dir/r-broken")"

echo "media restore: ok"
