#!/usr/bin/env bash
# messenger.sh - the messenger over WebSocket (issue 5): bench_messenger
# prepares a fresh data dir (users, sessions, groups and 1:1 chats through the
# identity and messenger modules), `socialbank serve` runs on it, and the
# load client opens CONNECTIONS WebSockets and sends RATE "send" frames a
# second for SECONDS (GROUP_SHARE of them into groups of GROUP_SIZE, the rest
# into 1:1 chats), measuring messages delivered to the other members' devices
# per second and p50/p99 delivery latency.  Baseline, same run, same server,
# same connections: the plain "echo" frame at the same delivered rate
# (RATE x the expected fan-out), so the ratio is what storing and fanning out
# costs over moving the same number of frames.  See bench/bench_messenger.c.
#
# Env overrides: SB_BENCH_CONNECTIONS (10000), SB_BENCH_SECONDS (10),
# SB_BENCH_RATE (sends/s, 6000), SB_BENCH_GROUP_SIZE (20),
# SB_BENCH_GROUP_SHARE (0.9), SB_BENCH_THREADS (server threads, 2).
set -euo pipefail
connections="${SB_BENCH_CONNECTIONS:-10000}"
seconds="${SB_BENCH_SECONDS:-10}"
rate="${SB_BENCH_RATE:-6000}"
group_size="${SB_BENCH_GROUP_SIZE:-20}"
group_share="${SB_BENCH_GROUP_SHARE:-0.9}"
threads="${SB_BENCH_THREADS:-2}"
client="$SB_BUILD/bench/bench_messenger"

# One fd per connection on each side, plus the store and the loop.
want_fds=$((connections + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  echo "messenger: ulimit -n is $(ulimit -n), need $want_fds for $connections connections" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/sb-bench-ws-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$client" setup "$dir/data" "$connections" "$group_size" "$dir/users.txt"

"$SB_BINARY" serve --data "$dir/data" --port 0 --bind 127.0.0.1 --threads "$threads" --log-level info \
  --web "$dir/noweb" 2>"$dir/serve.log" &
server_pid=$!
port=""
for _ in $(seq 1 300); do
  port="$(grep -o '"event":"http.listen"[^}]*' "$dir/serve.log" 2>/dev/null | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
if [ -z "$port" ]; then
  # the listen line is logged at info; with --log-level info read the port from ss
  port="$(ss -ltnp 2>/dev/null | grep "pid=$server_pid," | grep -o '127.0.0.1:[0-9]*' | head -1 | cut -d: -f2 || true)"
fi
[ -n "$port" ] || { echo "messenger: the server did not start" >&2; cat "$dir/serve.log" >&2; exit 1; }

# Expected deliveries per send to the OTHER members: (group_size - 1) in a
# group, 1 in a 1:1 chat.  The echo baseline moves that many frames.
fanout="$(awk -v g="$group_size" -v s="$group_share" 'BEGIN { printf "%.2f", s * (g - 1) + (1 - s) }')"
echo_rate="$(awk -v r="$rate" -v f="$fanout" 'BEGIN { printf "%d", r * f }')"

# The server's CPU time over each run (the machine is shared: delivered
# messages per server CPU-second is the figure that does not depend on load).
tck="$(getconf CLK_TCK)"
server_cpu() { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$server_pid/stat"; }

echo "== messenger: $connections connections, $rate sends/s for ${seconds}s, groups of $group_size (${group_share} of sends), fan-out $fanout" >&2
c0="$(server_cpu)"
m="$("$client" run "$port" "$dir/users.txt" messenger "$connections" "$seconds" "$rate" "$group_share" | grep '^result:')"
c1="$(server_cpu)"
echo "$m" >&2
# Let the server finish what it still owes (bounded) so the baseline starts idle.
for _ in $(seq 1 60); do
  a="$(server_cpu)"; sleep 0.5; b="$(server_cpu)"
  awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a < 0.05) }' && break
done
echo "== echo baseline: the same connections, $echo_rate echo frames/s for ${seconds}s" >&2
c1b="$(server_cpu)"
e="$("$client" run "$port" "$dir/users.txt" echo "$connections" "$seconds" "$echo_rate" | grep '^result:')"
c2="$(server_cpu)"
echo "$e" >&2

field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | head -1 | cut -d= -f2; }
value="$(field "$m" delivered_per_s)"
baseline="$(field "$e" delivered_per_s)"
m_cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')"
e_cpu="$(awk -v a="$c1b" -v b="$c2" 'BEGIN { printf "%.2f", b - a }')"
per_cpu() { awk -v n="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print 0 }'; }
ratio="$(awk -v a="$value" -v b="$baseline" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }')"
echo "bench: messenger value=$value unit=msgs/s baseline=echo baseline_value=$baseline ratio=$ratio" \
  "p99_ms=$(field "$m" p99_ms) connections=$(field "$m" connections) p50_ms=$(field "$m" p50_ms)" \
  "send_rate=$rate sent_per_s=$(field "$m" sent_per_s) fanout=$fanout group_size=$group_size" \
  "errors=$(field "$m" errors) late=$(field "$m" late) open_at_end=$(field "$m" open_at_end)" \
  "echo_p50_ms=$(field "$e" p50_ms) echo_p99_ms=$(field "$e" p99_ms) server_threads=$threads" \
  "acked=$(field "$m" acked) sent=$(field "$m" sent) loadavg=$(cut -d" " -f1 /proc/loadavg)" \
  "server_cpu_s=$m_cpu delivered_per_server_cpu_s=$(per_cpu "$(field "$m" delivered)" "$m_cpu")" \
  "echo_server_cpu_s=$e_cpu echo_per_server_cpu_s=$(per_cpu "$(field "$e" delivered)" "$e_cpu")"
