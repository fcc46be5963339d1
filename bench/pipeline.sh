#!/usr/bin/env bash
# pipeline.sh - listening posts/s end to end (read, check, redact, understand,
# store, count, route) on SQLite with the default model, beside the
# classifier alone (normalise + predict) on the same posts and threads: a thin
# wrapper around `socialbank bench pipeline` (src/cli/cli_bench_pipeline.c,
# whose --help describes the method).
#
# Env: SB_BINARY, SB_SOURCE_DIR (set by bench/run.sh); SB_DATA_DIR (default
# $SB_SOURCE_DIR/../shared/data; without it the project's own stream is used),
# BENCH_PIPELINE_POSTS (0 = each dataset text once), BENCH_PIPELINE_BATCH
# (1000), BENCH_PIPELINE_THREADS (the cores).
set -euo pipefail
: "${SB_BINARY:?run through bench/run.sh}" "${SB_SOURCE_DIR:?run through bench/run.sh}"
data="${SB_DATA_DIR:-$SB_SOURCE_DIR/../shared/data}"
args=(--stream "$SB_SOURCE_DIR/tests/data/listening_stream.jsonl" --posts "${BENCH_PIPELINE_POSTS:-0}"
  --batch "${BENCH_PIPELINE_BATCH:-1000}")
[ -d "$data" ] && args+=(--data-dir "$data")
[ -n "${BENCH_PIPELINE_THREADS:-}" ] && args+=(--threads "$BENCH_PIPELINE_THREADS")
exec "$SB_BINARY" bench pipeline "${args[@]}"
