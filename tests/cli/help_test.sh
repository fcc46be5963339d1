#!/usr/bin/env bash
# help_test.sh BINARY - every subcommand answers --help with exit 0, nothing
# on stderr, and a first line "usage: socialbank COMMAND...".  The commands
# are read from `socialbank --help`; a command whose help does not end in the
# "--help  show this help" line of cli_print_help (ledger, user, bench)
# dispatches to subcommands, which are read from its own help and checked the
# same way.  ledger stress is not listed (a load
# generator for the crash test) and is named here.
set -u
bin="$1"
fail=0
checked=0
errfile="$(mktemp)"
listfile="$(mktemp)"
trap 'rm -f "$errfile" "$listfile"' EXIT

# check_help WORDS...: run BINARY WORDS --help and check it; when it is a
# dispatcher its help goes to $listfile (so the caller can read the
# subcommands), else $listfile is left empty.
check_help() {
    local out rc first
    : >"$listfile"
    out="$("$bin" "$@" --help 2>"$errfile")"
    rc=$?
    first="${out%%$'\n'*}"
    checked=$((checked + 1))
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: socialbank $* --help exited $rc" >&2
        fail=1
    fi
    if [ -s "$errfile" ]; then
        echo "FAIL: socialbank $* --help wrote to stderr: $(cat "$errfile")" >&2
        fail=1
    fi
    case "$first" in
        "usage: socialbank $*"*) ;;
        *)
            echo "FAIL: socialbank $* --help: first line is '$first'" >&2
            fail=1
            ;;
    esac
    if ! printf '%s\n' "$out" | grep -Eq '^  --help +show this help$'; then
        printf '%s\n' "$out" >"$listfile"
    fi
}

# Names in a help's list: lines "  NAME   text" (not options).
names() { sed -n 's/^  \([a-z][a-z0-9_-]*\)  .*/\1/p'; }

top="$("$bin" --help)" || { echo "FAIL: socialbank --help" >&2; exit 1; }
commands="$(printf '%s\n' "$top" | names)"
for cmd in $commands; do
    check_help "$cmd"
    subs="$(names <"$listfile")"
    for sub in $subs; do
        check_help "$cmd" "$sub"
        if [ -s "$listfile" ]; then
            echo "FAIL: socialbank $cmd $sub --help lacks the '--help  show this help' line" >&2
            fail=1
        fi
    done
done
check_help ledger stress

echo "checked $checked --help outputs: $commands" | tr '\n' ' '; echo
# the binary has 15 commands and 8 subcommands today: fewer means the lists
# were not read
[ "$checked" -ge 23 ] || { echo "FAIL: expected at least 23 commands, found $checked" >&2; fail=1; }
[ "$fail" -eq 0 ] && echo ok
exit "$fail"
