#!/usr/bin/env bash
# ledger.sh - durable transfers/s of the ledger with group commit against one
# SQLite transaction per transfer (the naive way), measured in the same run,
# in a temporary directory that is removed afterwards.  About 20 s.
# Ends with: bench: ledger value=N unit=transfers/s baseline=naive baseline_value=N ratio=R p99_ms=P batch=B
set -euo pipefail
binary="${SB_BINARY:?set SB_BINARY (bench/run.sh does)}"
dir="$(mktemp -d /tmp/sb-bench-ledger-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
"$binary" bench ledger --data "$dir" --seconds "${SB_BENCH_LEDGER_SECONDS:-4}"
