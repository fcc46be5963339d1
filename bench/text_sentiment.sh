#!/usr/bin/env bash
# text_sentiment.sh - sentiment on every real sentiment dataset in
# ../shared/data: our classifier (word unigrams + bigrams, and with
# character 3..5-grams) and fastText (word unigrams + bigrams) trained on
# each train split with the same epochs, dimension, learning rate and
# buckets, single-threaded, scored on the dev split by the same script
# (accuracy and macro-F1); and the shipped default model (trained only on
# models/starter/) on the same dev sets, to show how far it carries before
# a bank retrains it.  The summary line compares mean macro-F1.
#
# Env: SB_BINARY, SB_BUILD, SB_SOURCE_DIR (bench/run.sh); BENCH_SENT_EPOCHS
# (10), BENCH_SENT_DIM (64), BENCH_SENT_LR (0.3), SB_DATA_DIR.
set -euo pipefail
: "${SB_BINARY:?run through bench/run.sh}" "${SB_SOURCE_DIR:?run through bench/run.sh}"
here="$(cd "$(dirname "$0")" && pwd)"
data="${SB_DATA_DIR:-$SB_SOURCE_DIR/../shared/data}"
[ -d "$data/sentipers" ] || data=/work/shared/data
command -v fasttext >/dev/null || { echo "text_sentiment.sh: the fasttext command is missing" >&2; exit 1; }
epochs="${BENCH_SENT_EPOCHS:-10}" dim="${BENCH_SENT_DIM:-64}" lr="${BENCH_SENT_LR:-0.3}" buckets=200000
default_model="$(dirname "$SB_BINARY")/models/default.sbm"
tools="python3 $here/text_tools.py"
datasets=(banki-ru-reviews cafebazaar-bank-apps digikala-comments hotline-ua-shop-reviews
  myfin-by-bank-reviews-sentiment sentipers sentirueval2016-banks snappfood sravni-ru-bank-reviews
  twitter-airline-sentiment)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.txt"
echo "text_sentiment: epochs=$epochs dim=$dim lr=$lr buckets=$buckets; dev accuracy / macro-F1" >&2
printf '%-32s %6s %15s %15s %15s %15s\n' dataset dev ours ours+char3-5 fasttext default_model
sums="$tmp/sums"
: >"$sums"
for d in "${datasets[@]}"; do
  dir="$data/$d"
  [ -f "$dir/train.tsv" ] || { echo "text_sentiment.sh: skipping $d (no $dir/train.tsv)" >&2; continue; }
  tail -n +2 "$dir/train.tsv" | awk -F'\t' '{print "__label__" $1 " " $2}' >"$tmp/ft_train.txt"
  tail -n +2 "$dir/dev.tsv" | cut -f1 >"$tmp/gold.txt"
  tail -n +2 "$dir/dev.tsv" | cut -f2 >"$tmp/text.txt"
  common=(--epochs "$epochs" --dim "$dim" --lr "$lr" --buckets "$buckets" --seed 1 --head sentiment)
  "$SB_BINARY" train --input "$dir/train.tsv" --model "$tmp/w.sbm" "${common[@]}" >/dev/null
  "$SB_BINARY" train --input "$dir/train.tsv" --model "$tmp/c.sbm" "${common[@]}" --char-min 3 --char-max 5 >/dev/null
  fasttext supervised -input "$tmp/ft_train.txt" -output "$tmp/ft" -wordNgrams 2 -epoch "$epochs" -dim "$dim" \
    -lr "$lr" -bucket "$buckets" -thread 1 -verbose 0
  "$SB_BINARY" classify --labels --model "$tmp/w.sbm" <"$tmp/text.txt" >"$tmp/w.pred"
  "$SB_BINARY" classify --labels --model "$tmp/c.sbm" <"$tmp/text.txt" >"$tmp/c.pred"
  fasttext predict "$tmp/ft.bin" "$tmp/text.txt" >"$tmp/ft.pred"
  read -r wa wf n < <($tools score "$tmp/gold.txt" "$tmp/w.pred")
  read -r ca cf _ < <($tools score "$tmp/gold.txt" "$tmp/c.pred")
  read -r fa ff _ < <($tools score "$tmp/gold.txt" "$tmp/ft.pred")
  da="-" df="-"
  if [ -f "$default_model" ]; then
    line="$("$SB_BINARY" eval --model "$default_model" --input "$dir/dev.tsv" --head sentiment | tail -n 1)"
    da="$(sed -E 's/.*accuracy=([0-9.]+).*/\1/' <<<"$line")"
    df="$(sed -E 's/.*macro_f1=([0-9.]+).*/\1/' <<<"$line")"
  fi
  printf '%-32s %6s %7s/%-7s %7s/%-7s %7s/%-7s %7s/%-7s\n' "$d" "$n" "$wa" "$wf" "$ca" "$cf" "$fa" "$ff" "$da" "$df"
  echo "$wf $cf $ff ${df/-/nan}" >>"$sums"
done
python3 - "$sums" <<'EOF'
import math, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
if not rows:
    sys.exit("text_sentiment: no dataset found")
def mean(i):
    v = [r[i] for r in rows if not math.isnan(r[i])]
    return sum(v) / len(v) if v else float("nan")
w, c, f, d = mean(0), mean(1), mean(2), mean(3)
best = max(w, c)
print(f"mean macro-F1: ours={w:.4f} ours+char={c:.4f} fasttext={f:.4f} default_model={d:.4f}")
print(f"bench: text_sentiment value={best:.4f} unit=macro_f1 baseline=fasttext baseline_value={f:.4f} "
      f"ratio={best / f:.3f} ours_words={w:.4f} ours_char={c:.4f} default_model={d:.4f} datasets={len(rows)}")
EOF
