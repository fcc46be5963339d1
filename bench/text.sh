#!/usr/bin/env bash
# text.sh - our classifier against fastText on Banking77 (77 banking intents):
# a thin wrapper around `socialbank bench text` (src/cli/cli_bench_text.c,
# the one implementation; its --help describes the method).
#
# Env: SB_BINARY, SB_SOURCE_DIR (set by bench/run.sh); BENCH_TEXT_EPOCHS (25),
# BENCH_TEXT_DIM (100), BENCH_TEXT_LR (0.5), BENCH_TEXT_REPEAT (200 copies of
# dev for the throughput run), SB_DATA_DIR (default $SB_SOURCE_DIR/../shared/data).
set -euo pipefail
: "${SB_BINARY:?run through bench/run.sh}" "${SB_SOURCE_DIR:?run through bench/run.sh}"
data="${SB_DATA_DIR:-$SB_SOURCE_DIR/../shared/data}"
[ -d "$data/banking77" ] || data=/work/shared/data
exec "$SB_BINARY" bench text --data-dir "$data" --epochs "${BENCH_TEXT_EPOCHS:-25}" --dim "${BENCH_TEXT_DIM:-100}" \
  --lr "${BENCH_TEXT_LR:-0.5}" --repeat "${BENCH_TEXT_REPEAT:-200}"
