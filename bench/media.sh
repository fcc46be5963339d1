#!/usr/bin/env bash
# media.sh - photo uploads per second (~200 KB JPEGs: sniff, header check,
# libvips decode, strip, re-encode, thumbnail, hash, fsynced store, rows)
# against a plain fsynced copy of the same bytes in the same run.
# See bench/bench_media.c.  SB_BENCH_MEDIA_UPLOADS sets the count.
set -euo pipefail
dir="$(mktemp -d /tmp/sb-bench-media-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
"$SB_BUILD/bench/bench_media" "$dir" "${SB_BENCH_MEDIA_UPLOADS:-100}"
