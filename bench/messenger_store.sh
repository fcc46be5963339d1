#!/usr/bin/env bash
# messenger_store.sh - messenger_send (checks, seq, insert, recipients, event
# JSON) per second into a 50-member group on one SQLite connection, against a
# bare INSERT per transaction in the same run. See bench/bench_messenger_store.c.
# The network benchmark of issue 5 (bench: messenger, WebSocket) needs the api.
set -euo pipefail
dir="$(mktemp -d /tmp/sb-bench-messenger-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
"$SB_BUILD/bench/bench_messenger_store" "$dir" "${SB_BENCH_MESSAGES:-20000}"
