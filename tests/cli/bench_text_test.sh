#!/usr/bin/env bash
# bench_text_test.sh BINARY - `socialbank bench text` without its data fails
# at once with exit 1 and says what is missing (nothing is timed here).
set -u
bin="$1"
out="$("$bin" bench text --data-dir /nonexistent 2>&1)"
rc=$?
echo "exit $rc: $out"
[ "$rc" -eq 1 ] || { echo "FAIL: expected exit 1"; exit 1; }
case "$out" in
  *"no Banking77 at /nonexistent/banking77"*) ;;
  *) echo "FAIL: expected 'no Banking77 at /nonexistent/banking77'"; exit 1 ;;
esac
out="$("$bin" bench text --data-dir /nonexistent --repeat 0 2>&1)"
rc=$?
echo "exit $rc: $out"
[ "$rc" -eq 2 ] || { echo "FAIL: expected exit 2 for --repeat 0"; exit 1; }
echo ok
