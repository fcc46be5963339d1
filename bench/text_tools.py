#!/usr/bin/env python3
"""text_tools.py - helpers of bench/text_sentiment.sh.

  text_tools.py run STDIN STDOUT -- CMD...   run CMD with stdin/stdout redirected
      and print "WALL_S CPU_S" (CPU = user + system of the child, which on a
      shared machine is the fairer clock for a single-threaded program).
  text_tools.py score GOLD PRED   GOLD: one label a line; PRED: one label a line
      (fastText's "__label__" prefix dropped); print "ACCURACY MACRO_F1 N"
      (macro-F1 over the classes present in gold or predictions, as sklearn).
"""
import os
import resource
import subprocess
import sys
import time


def run(stdin_path, stdout_path, cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        subprocess.run(cmd, stdin=fin, stdout=fout, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{wall:.4f} {cpu:.4f}")


def score(gold_path, pred_path):
    with open(gold_path, encoding="utf-8") as f:
        gold = [line.rstrip("\n") for line in f]
    with open(pred_path, encoding="utf-8") as f:
        pred = [line.rstrip("\n").split(" ")[0].removeprefix("__label__") for line in f]
    if len(gold) != len(pred):
        sys.exit(f"score: {len(gold)} gold labels but {len(pred)} predictions")
    classes = sorted(set(gold) | set(pred))
    f1s = []
    for c in classes:
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        npred = sum(1 for p in pred if p == c)
        nsupp = sum(1 for g in gold if g == c)
        prec = tp / npred if npred else 0.0
        rec = tp / nsupp if nsupp else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    acc = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold) if gold else 0.0
    print(f"{acc:.4f} {sum(f1s) / len(f1s) if f1s else 0.0:.4f} {len(gold)}")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "run" and sys.argv[4] == "--":
        run(sys.argv[2], sys.argv[3], sys.argv[5:])
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
