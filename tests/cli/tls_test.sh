#!/usr/bin/env bash
# tls_test.sh BINARY - serve --tls-cert/--tls-key with a certificate made here
# (openssl): curl --http2 gets HTTP/2 over TLS (ALPN), --http1.1 gets HTTP/1.1,
# TLS 1.1 and plain HTTP on the TLS port are refused, a WebSocket opens over
# TLS and gets its hello; a key that does not match the certificate, or a
# certificate without a key, keeps serve from starting.  Plain HTTP without
# the options is what every other test runs.
set -euo pipefail
bin="$1"
dir="$(mktemp -d /tmp/sb-tls-test-XXXXXX)"
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/serve.log" ] && tail -5 "$dir/serve.log" >&2; exit 1; }
passed=0

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null ||
  fail "openssl could not make the test certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other \
  -keyout "$dir/other-key.pem" -out "$dir/other.pem" 2>/dev/null || fail "second certificate"

"$bin" demo --data "$dir/data" >/dev/null 2>&1 || fail "demo"
. "$(dirname "$0")/serve_lib.sh"
sb_serve_start "$bin" "$dir/serve.log" --data "$dir/data" --threads 2 --web "$dir/noweb" \
  --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" || fail "serve with TLS did not start"
grep -q '"tls":true' "$dir/serve.log" || fail "the listen line does not say TLS"
url="https://localhost:$port"
resolve=(--resolve "localhost:$port:127.0.0.1" --cacert "$dir/cert.pem")

out="$(curl -sf "${resolve[@]}" --http2 -o "$dir/body" -w '%{http_version} %{http_code}' "$url/healthz")" ||
  fail "HTTPS /healthz with --http2"
[ "$out" = "2 200" ] || fail "--http2 got '$out', want HTTP/2 200"
grep -q '"status":"ok"' "$dir/body" || fail "healthz body: $(cat "$dir/body")"
out="$(curl -sf "${resolve[@]}" --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "$url/healthz")" ||
  fail "HTTPS /healthz with --http1.1"
[ "$out" = "1.1 200" ] || fail "--http1.1 got '$out'"
token="$(sb_admin_token "$url" "${resolve[@]}" --http2)" || fail "login over HTTP/2"
out="$(curl -sf "${resolve[@]}" --http2 -X POST -o /dev/null -w '%{http_version} %{http_code}' \
  -H "Authorization: Bearer $token" "$url/api/admin/ledger/verify")" || fail "ledger verify job over HTTP/2"
[ "$out" = "2 202" ] || fail "verify job over HTTP/2: $out"
passed=$((passed + 1))

if curl -s "${resolve[@]}" --tls-max 1.1 -o /dev/null "$url/healthz" 2>/dev/null; then fail "TLS 1.1 was accepted"; fi
if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
  code="$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)"
  [ "$code" != 200 ] || fail "plain HTTP answered 200 on the TLS port"
fi
passed=$((passed + 1))

# A WebSocket over TLS (HTTP/1.1 by ALPN): the upgrade and the hello frame.
python3 - "$port" "$token" "$dir/cert.pem" <<'PY' || fail "WebSocket over TLS"
import base64, json, os, socket, ssl, sys
port, token, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /api/ws?token={token} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk: sys.exit("closed during the upgrade")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"): sys.exit("no upgrade: %r" % head[:80])
        while len(rest) < 2: rest += s.recv(4096)
        length = rest[1] & 0x7F
        hdr = 2
        if length == 126:
            while len(rest) < 4: rest += s.recv(4096)
            length, hdr = int.from_bytes(rest[2:4], "big"), 4
        while len(rest) < hdr + length: rest += s.recv(4096)
        msg = json.loads(rest[hdr:hdr + length])
        if msg.get("type") != "hello": sys.exit("first frame: %r" % msg)
PY
passed=$((passed + 1))
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""

set +e
timeout 20 "$bin" serve --data "$dir/data" --port 0 --web "$dir/noweb" --tls-cert "$dir/cert.pem" \
  --tls-key "$dir/other-key.pem" 2>"$dir/bad.log"; rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "serve with a mismatched key exited $rc"
grep -q '"event":"http.tls"' "$dir/bad.log" || fail "no http.tls message: $(tail -3 "$dir/bad.log")"
timeout 20 "$bin" serve --data "$dir/data" --port 0 --web "$dir/noweb" --tls-cert "$dir/cert.pem" 2>"$dir/bad2.log"; rc=$?
[ "$rc" = 2 ] || fail "serve with a certificate and no key exited $rc, want 2"
set -e
passed=$((passed + 1))
echo "$passed passed, 0 failed"
