#!/usr/bin/env python3
"""Validate, split and count the SocialBank starter corpus (models/starter/).

The corpus is two JSONL files, train.jsonl and dev.jsonl, one labelled example
a line (schema in models/starter/README.md). This script is the single place
that knows the label sets; ctest runs `--check` as data.starter_corpus.

  corpus_stats.py --check        validate everything, exit 1 on any problem
  corpus_stats.py --stats        print the counts tables (markdown) for the README
  corpus_stats.py --split        pool train+dev and re-split (15% dev per language)
  corpus_stats.py --add FILE --lang L
                                 append examples written in the compact notation
                                 (see README, "How it was written"), then re-split
  corpus_stats.py --update-readme
                                 rewrite the counts block of models/starter/README.md

Checks made by --check: JSON schema and field types; label values; language
counts (>= MIN_PER_LANG, Ukrainian at least as many as any other); every label
of every head present in every language, none above MAX_SHARE of a language;
every risk and life event present in every language; exact and near duplicates
(after normalisation, across both files); the split (no text in both files,
dev share of each language within DEV_SHARE_RANGE); the counts block of the
README matches the data.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import unicodedata

LANGS = ["fa", "uk", "ru", "en"]
HEADS = {
    "sentiment": ["positive", "negative", "neutral"],
    "kind": ["complaint", "suggestion", "question", "praise", "other"],
    "topic": ["cards", "transfers", "fees", "loans", "call_center", "app_online",
              "branch", "fraud_security", "staff", "other"],
}
SETS = {
    "risks": ["card_misuse", "threat_leave", "threat_sue", "insolvency_rumour"],
    "life_events": ["new_child", "travel_abroad", "wedding", "new_home", "new_job", "studies"],
}
FIELDS = ["text", "lang"] + list(HEADS) + list(SETS)

MIN_PER_LANG = 400
MAX_SHARE = 0.50          # no label may hold more than this share of a language's examples
MIN_LABEL = 8             # every head label needs at least this many examples per language
MIN_SET_LABEL = 5         # every risk / life event needs at least this many per language
DEV_SHARE = 0.15
DEV_SHARE_RANGE = (0.12, 0.18)
NEAR_DUP_JACCARD = 0.80   # character-trigram Jaccard similarity counted as a near duplicate
MAX_TEXT_CHARS = 1000

# Compact authoring notation: "S K T R L | text"
SENT_CODES = {"+": "positive", "-": "negative", "0": "neutral"}
KIND_CODES = {"c": "complaint", "s": "suggestion", "q": "question", "p": "praise", "o": "other"}
TOPIC_CODES = {"ca": "cards", "tr": "transfers", "fe": "fees", "lo": "loans", "cc": "call_center",
               "ap": "app_online", "br": "branch", "fr": "fraud_security", "st": "staff", "ot": "other"}
RISK_CODES = {"m": "card_misuse", "l": "threat_leave", "s": "threat_sue", "i": "insolvency_rumour"}
LIFE_CODES = {"ch": "new_child", "tv": "travel_abroad", "we": "wedding", "ho": "new_home",
              "jo": "new_job", "su": "studies"}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "models", "starter"))


def norm_key(text):
    """Normalise a text for duplicate detection: letters and digits only, folded."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = t.replace("\u064a", "\u06cc").replace("\u0643", "\u06a9").replace("ё", "е")
    t = t.replace("\u200c", "")
    out = []
    for ch in t:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            out.append(ch)
        elif ch.isspace() and out and out[-1] != " ":
            out.append(" ")
    return "".join(out).strip()


def trigrams(key):
    s = " " + key + " "
    return {s[i:i + 3] for i in range(len(s) - 2)}


def load(path, problems):
    rows = []
    if not os.path.exists(path):
        problems.append(f"{path}: missing")
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            where = f"{os.path.basename(path)}:{n}"
            if not line.endswith("\n"):
                problems.append(f"{where}: last line has no newline")
            line = line.rstrip("\n")
            if not line.strip():
                problems.append(f"{where}: empty line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: invalid JSON ({e})")
                continue
            if validate(obj, where, problems):
                rows.append((where, obj))
    return rows


def validate(obj, where, problems):
    if not isinstance(obj, dict):
        problems.append(f"{where}: not an object")
        return False
    ok = True
    if sorted(obj) != sorted(FIELDS):
        problems.append(f"{where}: fields {sorted(obj)} != {sorted(FIELDS)}")
        return False
    text = obj["text"]
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: text must be a non-empty string")
        ok = False
    elif text != text.strip() or "\n" in text or "\t" in text or len(text) > MAX_TEXT_CHARS:
        problems.append(f"{where}: text has surrounding space, a tab/newline or is too long")
        ok = False
    if obj["lang"] not in LANGS:
        problems.append(f"{where}: lang {obj['lang']!r} not in {LANGS}")
        ok = False
    for head, labels in HEADS.items():
        if obj[head] not in labels:
            problems.append(f"{where}: {head} {obj[head]!r} not in {labels}")
            ok = False
    for name, labels in SETS.items():
        v = obj[name]
        if not isinstance(v, list) or any(x not in labels for x in v) or len(set(v)) != len(v):
            problems.append(f"{where}: {name} {v!r} must be a list of distinct values from {labels}")
            ok = False
    return ok


def check_duplicates(rows, problems):
    by_lang = {}
    seen = {}
    for where, obj in rows:
        key = norm_key(obj["text"])
        if key in seen:
            problems.append(f"{where}: duplicate of {seen[key]}")
            continue
        seen[key] = where
        by_lang.setdefault(obj["lang"], []).append((where, key, trigrams(key)))
    for items in by_lang.values():
        for i in range(len(items)):
            wi, ki, gi = items[i]
            for j in range(i + 1, len(items)):
                wj, kj, gj = items[j]
                a, b = len(gi), len(gj)
                if min(a, b) < NEAR_DUP_JACCARD * max(a, b):
                    continue  # sizes too different to reach the threshold
                inter = len(gi & gj)
                if inter / (a + b - inter) >= NEAR_DUP_JACCARD:
                    problems.append(f"{wj}: near duplicate of {wi}: {kj!r} ~ {ki!r}")


def check_coverage(rows, problems):
    per = {lang: [o for _, o in rows if o["lang"] == lang] for lang in LANGS}
    for lang, objs in per.items():
        n = len(objs)
        if n < MIN_PER_LANG:
            problems.append(f"{lang}: {n} examples, need at least {MIN_PER_LANG}")
        if n == 0:
            continue
        for head, labels in HEADS.items():
            for label in labels:
                c = sum(1 for o in objs if o[head] == label)
                if c < MIN_LABEL:
                    problems.append(f"{lang}: {head}={label} has {c} examples, need {MIN_LABEL}")
                if c > MAX_SHARE * n:
                    problems.append(f"{lang}: {head}={label} is {c}/{n}, above {MAX_SHARE:.0%}")
        for name, labels in SETS.items():
            for label in labels:
                c = sum(1 for o in objs if label in o[name])
                if c < MIN_SET_LABEL:
                    problems.append(f"{lang}: {name} {label} has {c} examples, need {MIN_SET_LABEL}")
    uk = len(per["uk"])
    for lang in LANGS:
        if len(per[lang]) > uk:
            problems.append(f"uk has {uk} examples, fewer than {lang} ({len(per[lang])})")


def check_split(train, dev, problems):
    train_keys = {norm_key(o["text"]) for _, o in train}
    for where, o in dev:
        if norm_key(o["text"]) in train_keys:
            problems.append(f"{where}: also in train.jsonl")
    for lang in LANGS:
        t = sum(1 for _, o in train if o["lang"] == lang)
        d = sum(1 for _, o in dev if o["lang"] == lang)
        if t + d == 0:
            continue
        share = d / (t + d)
        if not DEV_SHARE_RANGE[0] <= share <= DEV_SHARE_RANGE[1]:
            problems.append(f"{lang}: dev share {share:.3f} outside {DEV_SHARE_RANGE}")


def dump(obj):
    ordered = {k: obj[k] for k in FIELDS}
    return json.dumps(ordered, ensure_ascii=False)


def split(rows):
    """Deterministic split stratified by language: per language, the examples whose
    SHA-256 of the normalised text sorts lowest (round(15%) of them) go to dev."""
    dev_ids = set()
    for lang in LANGS:
        idx = [i for i, o in enumerate(rows) if o["lang"] == lang]
        idx.sort(key=lambda i: hashlib.sha256(norm_key(rows[i]["text"]).encode()).hexdigest())
        dev_ids.update(idx[:round(DEV_SHARE * len(idx))])
    train = [o for i, o in enumerate(rows) if i not in dev_ids]
    dev = [o for i, o in enumerate(rows) if i in dev_ids]
    return train, dev


def write(path, objs):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for o in objs:
            f.write(dump(o) + "\n")
    os.replace(tmp, path)


def parse_compact(path, lang, problems):
    """Lines "S K T R L | text"; R and L are comma lists of codes or '-'; '#' comments."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{os.path.basename(path)}:{n}"
            head, sep, text = line.partition("|")
            parts = head.split()
            if not sep or len(parts) != 5:
                problems.append(f"{where}: expected 'S K T R L | text'")
                continue
            s, k, t, r, l = parts
            try:
                obj = {
                    "text": text.strip(), "lang": lang,
                    "sentiment": SENT_CODES[s], "kind": KIND_CODES[k], "topic": TOPIC_CODES[t],
                    "risks": [] if r == "-" else [RISK_CODES[x] for x in r.split(",")],
                    "life_events": [] if l == "-" else [LIFE_CODES[x] for x in l.split(",")],
                }
            except KeyError as e:
                problems.append(f"{where}: unknown code {e}")
                continue
            out.append(obj)
    return out


def count_table(rows, title, values, has):
    lines = [f"| {title} | " + " | ".join(LANGS) + " | total |", "|---|" + "---:|" * (len(LANGS) + 1)]
    for v in values:
        cells = [sum(1 for o in rows if o["lang"] == lang and has(o, v)) for lang in LANGS]
        lines.append(f"| `{v}` | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |")
    return "\n".join(lines)


STATS_BEGIN = "<!-- corpus_stats:begin (generated by scripts/corpus_stats.py --update-readme) -->"
STATS_END = "<!-- corpus_stats:end -->"


def stats_text(train, dev):
    rows = train + dev
    out = ["| split | " + " | ".join(LANGS) + " | total |", "|---|" + "---:|" * (len(LANGS) + 1)]
    for name, part in (("train", train), ("dev", dev), ("all", rows)):
        cells = [sum(1 for o in part if o["lang"] == lang) for lang in LANGS]
        out.append(f"| {name} | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |")
    parts = ["\n".join(out)]
    for head, labels in HEADS.items():
        parts.append(count_table(rows, head, labels, lambda o, v, h=head: o[h] == v))
    for name, labels in SETS.items():
        parts.append(count_table(rows, name, labels, lambda o, v, h=name: v in o[h]))
    return "\n\n".join(parts) + "\n"


def readme_block(readme_path):
    """Return (text, start, end) of the generated block in the README, or None."""
    if not os.path.exists(readme_path):
        return None
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    a = text.find(STATS_BEGIN)
    b = text.find(STATS_END)
    if a < 0 or b < a:
        return None
    return text, a + len(STATS_BEGIN), b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=DEFAULT_DIR, help="corpus directory (default models/starter)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true")
    g.add_argument("--stats", action="store_true")
    g.add_argument("--split", action="store_true")
    g.add_argument("--add", metavar="FILE")
    g.add_argument("--update-readme", action="store_true")
    ap.add_argument("--lang", choices=LANGS, help="language of the --add file")
    args = ap.parse_args()

    readme_path = os.path.join(args.dir, "README.md")
    train_path = os.path.join(args.dir, "train.jsonl")
    dev_path = os.path.join(args.dir, "dev.jsonl")
    problems = []

    if args.add or args.split:
        if args.add and not args.lang:
            ap.error("--add needs --lang")
        rows = [o for _, o in load(train_path, problems) + load(dev_path, problems)] \
            if os.path.exists(train_path) else []
        if args.add:
            rows += parse_compact(args.add, args.lang, problems)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        train, dev = split(rows)
        write(train_path, train)
        write(dev_path, dev)
        print(f"wrote {len(train)} train, {len(dev)} dev")
        return 0

    train = load(train_path, problems)
    dev = load(dev_path, problems)
    block = stats_text([o for _, o in train], [o for _, o in dev])
    if args.stats:
        sys.stdout.write(block)
        return 0
    if args.update_readme:
        found = readme_block(readme_path)
        if found is None:
            print(f"{readme_path}: no {STATS_BEGIN} ... {STATS_END} block", file=sys.stderr)
            return 1
        text, a, b = found
        with open(readme_path, "w", encoding="utf-8") as f:
            f.write(text[:a] + "\n" + block + text[b:])
        print(f"updated {readme_path}")
        return 0
    rows = train + dev
    check_duplicates(rows, problems)
    check_coverage(rows, problems)
    check_split(train, dev, problems)
    found = readme_block(readme_path)
    if found is None:
        problems.append(f"{readme_path}: missing or without the generated counts block")
    elif found[0][found[1]:found[2]] != "\n" + block:
        problems.append(f"{readme_path}: counts block is stale, run scripts/corpus_stats.py --update-readme")
    for p in problems:
        print(p, file=sys.stderr)
    n = len(rows)
    if problems:
        print(f"corpus check: FAILED, {len(problems)} problem(s) in {n} examples", file=sys.stderr)
        return 1
    print(f"corpus check: ok, {n} examples ({len(train)} train, {len(dev)} dev)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
