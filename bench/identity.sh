#!/usr/bin/env bash
# identity.sh - failed staff logins: unknown username vs wrong password at the
# production argon2id cost (they must take about the same time), plus session
# lookups/s and one-time-code requests/s on SQLite. See bench/bench_identity.c.
set -euo pipefail
dir="$(mktemp -d /tmp/sb-bench-identity-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
"$SB_BUILD/bench/bench_identity" "$dir" "${SB_BENCH_ROUNDS:-15}"
