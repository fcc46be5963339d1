#!/usr/bin/env bash
# run.sh BUILD_DIR NAME|all - run one benchmark (bench/NAME.sh) or all of them.
# Each benchmark measures its baseline in the same run and ends with one line:
#   bench: NAME value=N unit=UNIT baseline=NAME baseline_value=N ratio=R ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "$1" && pwd)"
name="$2"
export SB_BUILD="$build" SB_BINARY="$build/socialbank" SB_SOURCE_DIR="$(dirname "$here")"
if [ "$name" = all ]; then
  status=0
  for script in "$here"/*.sh; do
    b="$(basename "$script" .sh)"
    [ "$b" = run ] && continue
    echo "== bench $b" >&2
    bash "$script" || { echo "bench $b failed" >&2; status=1; }
  done
  exit $status
fi
script="$here/$name.sh"
if [ ! -f "$script" ]; then
  echo "no benchmark named '$name'; have: $(ls "$here"/*.sh | xargs -n1 basename | sed 's/\.sh$//' | grep -v '^run$' | tr '\n' ' ')" >&2
  exit 2
fi
exec bash "$script"
