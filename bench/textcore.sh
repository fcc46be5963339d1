#!/usr/bin/env bash
# textcore.sh - single-thread throughput of the text engine's per-post work
# (normalise + language identification + signals) on the real dev splits in
# ../shared/data (all four languages, read by path, never copied), against
# utf8proc's NFKC_Casefold alone on the same texts in the same run.  The
# pipeline aims at 50,000 posts/s; this shows the text engine's share.
# Last line:
#   bench: textcore value=POSTS_PER_S unit=posts/s baseline=utf8proc_nfkc_casefold baseline_value=B ratio=R bytes_per_s=N posts=N
set -euo pipefail
: "${SB_BUILD:?run through bench/run.sh}" "${SB_SOURCE_DIR:?}"
data="${SB_DATA_DIR:-$SB_SOURCE_DIR/../shared/data}"
bin="$SB_BUILD/bench/bench_textcore"
[ -x "$bin" ] || { echo "textcore: build $bin first" >&2; exit 1; }
files=()
for d in sentipers snappfood digikala-comments cafebazaar-bank-apps banki-ru-reviews sravni-ru-bank-reviews \
         sentirueval2016-banks myfin-by-bank-reviews-sentiment hotline-ua-shop-reviews banking77 twitter-airline-sentiment \
         cfpb-complaints-product; do
  f="$data/$d/dev.tsv"
  [ -f "$f" ] || { echo "textcore: missing $f" >&2; exit 1; }
  files+=("$f")
done
out="$("$bin" "${files[@]}")"
echo "$out" | grep -v '^posts_per_s='
echo "$out" | awk -F'[ =]' '/^posts_per_s=/ {
  ours = $2; base = $4; bps = $6; n = $8
  printf "bench: textcore value=%d unit=posts/s baseline=utf8proc_nfkc_casefold baseline_value=%d ratio=%.3f bytes_per_s=%d posts=%d\n",
         ours, base, (base > 0) ? ours / base : 0, bps, n }'
