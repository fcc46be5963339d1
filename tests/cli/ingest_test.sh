#!/usr/bin/env bash
# ingest_test.sh BINARY - `socialbank ingest` on JSONL, CSV and a Telegram
# export with bad rows: exact summary counts, reasons and line numbers,
# duplicates merged on a second run, standard input, the default model, and
# the exit codes (0 read, 1 I/O or unreadable file, 2 usage).
set -euo pipefail
bin="$1"
dir="$(mktemp -d /tmp/sb-ingest-test-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
# expect OUT KEY VALUE: the summary line "KEY: VALUE" is there.
expect() { grep -qxF "$2: $3" <<<"$1" || fail "expected '$2: $3' in:
$1"; }
q() { sqlite3 "$1/socialbank.db" "$2"; }

# ---- JSONL: every kind of bad row, and the good ones around them ----
jsonl="$dir/posts.jsonl"
{
  echo '{"source":"twitter","id":"t1","author":"@ali","followers":10,"time":"2026-11-20T10:00:00Z","text":"My card was blocked","likes":1}'
  echo '{"source":"twitter","id":"t2","author":"@sara","time":1795168800000,"text":"Thanks for the quick transfer"}'
  echo '{"source":"twitter","id":"t3", bad json'
  echo ''
  echo '{"source":"myspace","id":"m1","author":"@x","time":"2026-11-20T10:00:00Z","text":"hello"}'
  echo '{"source":"forum","id":"f0","author":"@y","time":"2026-11-20T10:00:00Z"}'
  printf '{"source":"forum","id":"f9","author":"@z","time":"2026-11-20T10:00:00Z","text":"bad \xff byte"}\n'
  echo '{"source":"twitter","id":"t1","author":"@ali","followers":50,"time":"2026-11-20T10:00:00Z","text":"My card was blocked","likes":7}'
  echo '{"source":"forum","id":"f2","author":"@w","time":"2099-01-01T00:00:00Z","text":"from the future"}'
  echo '{"source":"forum","id":"f1","author":"@v","time":"2026-11-20T11:00:00+03:30","text":"Call me at 09121234567"}'
} >"$jsonl"
out="$("$bin" ingest "$jsonl" --data "$dir/d1" --model none 2>/dev/null)" || fail "jsonl run exited $?"
expect "$out" format jsonl
expect "$out" records 9
expect "$out" accepted 3
expect "$out" duplicates 1
expect "$out" rejected 5
expect "$out" rejected.bad_json 1
expect "$out" rejected.unknown_source 1
expect "$out" rejected.missing_text 1
expect "$out" rejected.invalid_utf8 1
expect "$out" rejected.time_in_future 1
expect "$out" not_understood 3
[ "$(grep '^rejected_row:' <<<"$out" | tr '\n' '|')" = \
  "rejected_row: line 3: bad_json|rejected_row: line 5: unknown_source|rejected_row: line 6: missing_text|rejected_row: line 7: invalid_utf8|rejected_row: line 9: time_in_future|" ] \
  || fail "rejected rows: $out"
[ "$(q "$dir/d1" "SELECT likes || '/' || author_reach FROM listening_posts WHERE external_id = 't1'")" = "7/50" ] \
  || fail "the duplicate did not merge its counts"
[ "$(q "$dir/d1" "SELECT text FROM listening_posts WHERE external_id = 'f1'")" = "Call me at [phone]" ] \
  || fail "the phone number was not redacted"
passed=$((passed + 1))

# The same file again: nothing new, every good row a duplicate.
out="$("$bin" ingest "$jsonl" --data "$dir/d1" --model none --threads 0 --batch 2 2>/dev/null)" || fail "second run exited $?"
expect "$out" accepted 0
expect "$out" duplicates 4
expect "$out" rejected 5
[ "$(q "$dir/d1" "SELECT COUNT(*) FROM listening_posts")" = 3 ] || fail "posts doubled on the second run"
passed=$((passed + 1))

# Standard input (a pipe), read as JSONL.
out="$(cat "$jsonl" | "$bin" ingest - --data "$dir/d2" --model none 2>/dev/null)" || fail "stdin run exited $?"
expect "$out" accepted 3
expect "$out" rejected 5
passed=$((passed + 1))

# ---- CSV with its own line numbers (a quoted field spans two lines) ----
csv="$dir/reviews.csv"
printf '%s\n' \
  'id,author,followers,time,text,likes' \
  'c1,@a,10,2026-11-20T10:00:00Z,"Great app, thanks",3' \
  'c2,@b,5,2026-11-20T11:00:00Z,"two' \
  'lines",1' \
  'c3,@c,many,2026-11-20T12:00:00Z,bad reach,0' \
  'c4,@d,1,2026-11-20T13:00:00Z,"quoted"junk,0' \
  'c5,@e,1,yesterday,no time,0' \
  'c1,@a,10,2026-11-20T10:00:00Z,"Great app, thanks",9' >"$csv"
printf 'c6,@f,1,2026-11-20T14:00:00Z,bad \xfe byte,0\n' >>"$csv"
echo 'c7,@g,1,2026-11-20T15:00:00Z,the last good row,0' >>"$csv"
out="$("$bin" ingest "$csv" --source app_store --data "$dir/d3" --model none 2>/dev/null)" || fail "csv run exited $?"
expect "$out" format csv
expect "$out" records 8
expect "$out" accepted 3
expect "$out" duplicates 1
expect "$out" rejected 4
expect "$out" rejected.bad_reach 1
expect "$out" rejected.junk_after_quote 1
expect "$out" rejected.bad_time 1
expect "$out" rejected.invalid_utf8 1
[ "$(grep '^rejected_row:' <<<"$out" | tr '\n' '|')" = \
  "rejected_row: line 5: bad_reach|rejected_row: line 6: junk_after_quote|rejected_row: line 7: bad_time|rejected_row: line 9: invalid_utf8|" ] \
  || fail "csv rejected rows: $out"
[ "$(q "$dir/d3" "SELECT text FROM listening_posts WHERE external_id = 'c2'")" = "two
lines" ] || fail "the quoted newline was lost"
[ "$(q "$dir/d3" "SELECT COUNT(*) FROM listening_posts WHERE source = 'app_store'")" = 3 ] || fail "--source not applied"
# Without --source the rows name none: each is rejected, the file still read.
out="$("$bin" ingest "$csv" --data "$dir/d4" --model none 2>/dev/null)" || fail "csv without --source exited $?"
expect "$out" accepted 0
expect "$out" rejected.missing_source 4
passed=$((passed + 1))

# ---- a Telegram Desktop export (result.json), the extra connector ----
tg="$dir/result.json"
cat >"$tg" <<'JSON'
{
 "name": "Bank customers chat",
 "type": "public_supergroup",
 "id": 1234567,
 "messages": [
  {"id": 1, "type": "service", "date": "2026-11-20T10:00:00", "date_unixtime": "1795168800", "actor": "Ali",
   "action": "create_group", "text": ""},
  {"id": 2, "type": "message", "date": "2026-11-20T10:01:00", "date_unixtime": "1795168860", "from": "Ali",
   "from_id": "user42", "text": "The app is down again",
   "reactions": [{"type": "emoji", "count": 3, "emoji": "x"}, {"type": "emoji", "count": 2, "emoji": "y"}]},
  {"id": 3, "type": "message", "date": "2026-11-20T10:02:00", "date_unixtime": "1795168920", "from": "Sara",
   "from_id": "user43", "text": ["Card ", {"type": "bold", "text": "blocked"}, " for no reason"]},
  {"id": 4, "type": "message", "date": "2026-11-20T10:03:00", "date_unixtime": "1795168980", "from": "Reza",
   "from_id": "user44", "photo": "photos/1.jpg", "text": ""},
  {"id": 5, "type": "message", "from": "Olena", "from_id": "user45", "text": "no date at all"},
  {"id": 6, "type": "message", "date": "2026-11-20T10:05:00", "from": "Ivan", "from_id": "user46",
   "text": "old export without unixtime"}
 ]
}
JSON
out="$("$bin" ingest "$tg" --data "$dir/d5" --model none 2>/dev/null)" || fail "telegram run exited $?"
expect "$out" format telegram
expect "$out" records 4
expect "$out" accepted 3
expect "$out" rejected 1
expect "$out" rejected.missing_time 1
expect "$out" "rejected_row" "line 15: missing_time"
[ "$(q "$dir/d5" "SELECT source || '|' || author || '|' || likes FROM listening_posts WHERE external_id = '1234567/2'")" \
  = "telegram|user42|5" ] || fail "telegram message 2: $(q "$dir/d5" "SELECT * FROM listening_posts")"
[ "$(q "$dir/d5" "SELECT text FROM listening_posts WHERE external_id = '1234567/3'")" = "Card blocked for no reason" ] \
  || fail "telegram text pieces not joined"
[ "$(q "$dir/d5" "SELECT posted_at_ms FROM listening_posts WHERE external_id = '1234567/6'")" = 1795169100000 ] \
  || fail "a date without unixtime is read as UTC"
# Not an export at all.
echo '[1, 2, 3]' >"$dir/other.json"
if "$bin" ingest "$dir/other.json" --data "$dir/d5" --model none >/dev/null 2>&1; then fail "a non-export was read"; fi
passed=$((passed + 1))

# ---- with the default model beside the binary: everything understood ----
if [ -f "$(dirname "$bin")/models/default.sbm" ]; then
  out="$("$bin" ingest "$jsonl" --data "$dir/d6" 2>/dev/null)" || fail "run with the default model exited $?"
  expect "$out" accepted 3
  expect "$out" not_understood 0
  [ "$(q "$dir/d6" "SELECT COUNT(*) FROM listening_understanding")" = 3 ] || fail "understanding not stored"
  passed=$((passed + 1))
fi

# ---- exit codes ----
set +e
"$bin" ingest "$dir/missing.jsonl" --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "a missing file exited $rc, not 1"
"$bin" ingest "$dir" --format jsonl --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "a directory exited $rc, not 1"
printf 'name,comment\nx,y\n' >"$dir/nohead.csv"
"$bin" ingest "$dir/nohead.csv" --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "a CSV without text and id columns exited $rc, not 1"
"$bin" ingest "$dir/posts.txt" --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "an unknown extension exited $rc, not 2"
"$bin" ingest "$jsonl" --format xml --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "an unknown --format exited $rc, not 2"
"$bin" ingest "$jsonl" --source myspace --data "$dir/d7" --model none >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "an unknown --source exited $rc, not 2"
"$bin" ingest --data "$dir/d7" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "no FILE exited $rc, not 2"
"$bin" ingest "$jsonl" --batch 0 --data "$dir/d7" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "--batch 0 exited $rc, not 2"
"$bin" ingest "$jsonl" --model "$dir/no.sbm" --data "$dir/d7" >/dev/null 2>&1; rc=$?
[ $rc = 1 ] || fail "a missing model exited $rc, not 1"
set -e
passed=$((passed + 1))
echo "$passed passed, 0 failed"
