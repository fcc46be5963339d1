#!/usr/bin/env bash
# text.sh - our classifier against fastText on Banking77 (77 banking intents).
#
# Both train on Banking77's train split with word unigrams + bigrams, the
# same epochs, dimension, learning rate and bucket count, single-threaded;
# both are scored on the dev split (the test split is held out) by the same
# script; both predict a large file (the dev texts repeated) one line at a
# time, single-threaded, and the model load time, measured on a one-line
# file, is subtracted.  Times are CPU seconds (user + system) of the
# process: the machine is shared, and both programs are single-threaded;
# wall-clock figures are printed beside them.
#
# Env: SB_BINARY, SB_SOURCE_DIR (set by bench/run.sh); BENCH_TEXT_EPOCHS (25),
# BENCH_TEXT_DIM (100), BENCH_TEXT_LR (0.5), BENCH_TEXT_REPEAT (200 copies of
# dev for the throughput run), SB_DATA_DIR (default $SB_SOURCE_DIR/../shared/data).
set -euo pipefail
: "${SB_BINARY:?run through bench/run.sh}" "${SB_SOURCE_DIR:?run through bench/run.sh}"
here="$(cd "$(dirname "$0")" && pwd)"
data="${SB_DATA_DIR:-$SB_SOURCE_DIR/../shared/data}"
[ -d "$data/banking77" ] || data=/work/shared/data
b77="$data/banking77"
[ -f "$b77/train.tsv" ] || { echo "text.sh: no Banking77 at $b77 (set SB_DATA_DIR)" >&2; exit 1; }
command -v fasttext >/dev/null || { echo "text.sh: the fasttext command is missing (scripts/deps.sh)" >&2; exit 1; }
epochs="${BENCH_TEXT_EPOCHS:-25}" dim="${BENCH_TEXT_DIM:-100}" lr="${BENCH_TEXT_LR:-0.5}"
repeat="${BENCH_TEXT_REPEAT:-200}" buckets=2000000
tools="python3 $here/text_tools.py"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# fastText's format: __label__X text (the text as it is; fastText splits on spaces).
tail -n +2 "$b77/train.tsv" | awk -F'\t' '{print "__label__" $1 " " $2}' >"$tmp/ft_train.txt"
tail -n +2 "$b77/dev.tsv" | cut -f1 >"$tmp/dev_gold.txt"
tail -n +2 "$b77/dev.tsv" | cut -f2 >"$tmp/dev_text.txt"
head -n 1 "$tmp/dev_text.txt" >"$tmp/one.txt"
for _ in $(seq "$repeat"); do cat "$tmp/dev_text.txt"; done >"$tmp/big.txt"
n_big=$(wc -l <"$tmp/big.txt")
: >"$tmp/empty.txt"

echo "text: Banking77 train=$(wc -l <"$tmp/ft_train.txt") dev=$(wc -l <"$tmp/dev_gold.txt") epochs=$epochs dim=$dim lr=$lr buckets=$buckets" >&2

# ---- training
read -r our_train_wall our_train_cpu < <($tools run "$tmp/empty.txt" "$tmp/our_train.log" -- \
  "$SB_BINARY" train --input "$b77/train.tsv" --model "$tmp/ours.sbm" --epochs "$epochs" --dim "$dim" \
  --lr "$lr" --buckets "$buckets" --seed 1)
read -r ft_train_wall ft_train_cpu < <($tools run "$tmp/empty.txt" "$tmp/ft_train.log" -- \
  fasttext supervised -input "$tmp/ft_train.txt" -output "$tmp/ft" -wordNgrams 2 -epoch "$epochs" -dim "$dim" \
  -lr "$lr" -bucket "$buckets" -thread 1 -verbose 0)

# ---- accuracy on dev, scored by the same script for both
$tools run "$tmp/dev_text.txt" "$tmp/our_dev_pred.txt" -- "$SB_BINARY" classify --labels --model "$tmp/ours.sbm" >/dev/null
$tools run "$tmp/dev_text.txt" "$tmp/ft_dev_pred.txt" -- fasttext predict "$tmp/ft.bin" - >/dev/null
read -r our_acc our_f1 n_dev < <($tools score "$tmp/dev_gold.txt" "$tmp/our_dev_pred.txt")
read -r ft_acc ft_f1 _ < <($tools score "$tmp/dev_gold.txt" "$tmp/ft_dev_pred.txt")

# ---- prediction throughput: big file minus the one-line run (model load)
read -r our_big_wall our_big_cpu < <($tools run "$tmp/big.txt" "$tmp/our_big.txt" -- "$SB_BINARY" classify --labels --model "$tmp/ours.sbm")
read -r our_one_wall our_one_cpu < <($tools run "$tmp/one.txt" "$tmp/our_one.txt" -- "$SB_BINARY" classify --labels --model "$tmp/ours.sbm")
read -r ft_big_wall ft_big_cpu < <($tools run "$tmp/big.txt" "$tmp/ft_big.txt" -- fasttext predict "$tmp/ft.bin" -)
read -r ft_one_wall ft_one_cpu < <($tools run "$tmp/one.txt" "$tmp/ft_one.txt" -- fasttext predict "$tmp/ft.bin" -)
cmp -s "$tmp/our_big.txt" <(for _ in $(seq "$repeat"); do cat "$tmp/our_dev_pred.txt"; done) ||
  { echo "text.sh: our predictions differ between runs" >&2; exit 1; }

rates="$(python3 - "$n_big" "$our_big_cpu" "$our_one_cpu" "$ft_big_cpu" "$ft_one_cpu" \
  "$our_big_wall" "$our_one_wall" "$ft_big_wall" "$ft_one_wall" <<'EOF'
import sys
n = int(sys.argv[1]) - 1
v = [float(x) for x in sys.argv[2:]]
def rate(big, one):
    return n / max(big - one, 1e-6)
print(f"{rate(v[0], v[1]):.0f} {rate(v[2], v[3]):.0f} {rate(v[4], v[5]):.0f} {rate(v[6], v[7]):.0f}")
EOF
)"
read -r our_rate ft_rate our_rate_wall ft_rate_wall <<<"$rates"
our_size=$(stat -c %s "$tmp/ours.sbm")
ft_size=$(stat -c %s "$tmp/ft.bin")

printf '%-10s %9s %9s %12s %12s %16s %16s %12s\n' system accuracy macro_f1 train_cpu_s train_wall_s "pred/s (cpu)" "pred/s (wall)" model_bytes
printf '%-10s %9s %9s %12s %12s %16s %16s %12s\n' socialbank "$our_acc" "$our_f1" "$our_train_cpu" "$our_train_wall" "$our_rate" "$our_rate_wall" "$our_size"
printf '%-10s %9s %9s %12s %12s %16s %16s %12s\n' fasttext "$ft_acc" "$ft_f1" "$ft_train_cpu" "$ft_train_wall" "$ft_rate" "$ft_rate_wall" "$ft_size"
python3 - "$our_train_cpu" "$ft_train_cpu" "$our_rate" "$ft_rate" "$our_acc" "$ft_acc" <<'EOF'
import sys
ot, ft, orate, frate, oacc, facc = map(float, sys.argv[1:])
print(f"ratios: training time ours/fasttext={ot / ft:.2f}  prediction speed ours/fasttext={orate / frate:.2f}  "
      f"accuracy ours-fasttext={oacc - facc:+.4f}")
EOF
ratio="$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$our_rate" "$ft_rate")"
echo "bench: text value=$our_rate unit=predictions/s baseline=fasttext baseline_value=$ft_rate ratio=$ratio accuracy=$our_acc fasttext_accuracy=$ft_acc"
