#!/usr/bin/env bash
# demo_test.sh BINARY - `socialbank demo` loads its data once, through the
# domain modules: a second run changes nothing, the ledger verifies, staff and
# customers exist, and a missing data directory value is a usage error.
set -euo pipefail
bin="$1"
dir="$(mktemp -d /tmp/sb-demo-test-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

out="$("$bin" demo --data "$dir" 2>/dev/null)" || fail "first demo run exited $?"
grep -q "demo data loaded" <<<"$out" || fail "first run said: $out"
out="$("$bin" demo --data "$dir" 2>/dev/null)" || fail "second demo run exited $?"
[ "$out" = "demo data already loaded" ] || fail "second run said: $out"

verify="$("$bin" ledger verify --data "$dir" 2>&1)" || fail "ledger verify failed: $verify"
grep -q "4 transfers" <<<"$verify" || fail "expected the 3 deposits and 1 payment, got: $verify"
grep -q "IRR: debits posted 151200000 = credits posted 151200000" <<<"$verify" || fail "totals: $verify"

users="$("$bin" user list --data "$dir" 2>/dev/null)"
for name in admin agent analyst marketer; do
  grep -q "\"username\":\"$name\"" <<<"$users" || fail "staff $name missing: $users"
done
count="$(sqlite3 "$dir/socialbank.db" "SELECT COUNT(*) FROM users WHERE role = 'customer'")"
[ "$count" = 4 ] || fail "expected 4 customers, found $count"

if "$bin" demo --data 2>/dev/null; then fail "--data without a value was accepted"; fi
echo "1 passed, 0 failed"
