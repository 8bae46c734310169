#!/usr/bin/env bash
# Connect timeouts: a server whose accept queue is full drops SYNs; the proxy gives up on it
# after `timeout connect`, goes on with the next server, and logs why when none is left.
# Ports: 27443 (tls), 27480 (http), echo backend 27401, never-accepting server 27498.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

byte_backend echo 27401 -m echo
blackhole 27498
proxy proc-robust

c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }

check "tls: a connect that hangs moves on to the next server after the timeout" \
    c -a 127.0.0.1 -p 27443 -n slow.test -u 1000 -t 10
ms=$(sed -n 's/.* ms=\([0-9]*\) .*/\1/p' "$WORK/client.out")
check "... the client waited about the connect timeout (1 s): $ms ms" test "$ms" -ge 900 -a "$ms" -lt 3000
check "... logged with the live server, connect time >= 1 s and a normal end" \
    log_has 'sni=slow\.test .*server=\[::1\]:27401 .*connect=(9[0-9][0-9]|1[0-9]{3}) .*term=--$'
check "the next connection skips the server marked down" c -a ::1 -p 27443 -n slow.test -u 10
check "... at once (connect under 100 ms, not the 1 s timeout)" \
    log_has 'sni=slow\.test .*connect=[0-9]{1,2} .*term=--$'

if c -a 127.0.0.1 -p 27443 -n hole.test -u 10 -t 10; then
    not_ok "tls: the only server never answering ends the connection"
else
    ok "tls: the only server never answering ends the connection"
fi
check "... logged as a connect timeout (sC, err=connect-timeout)" \
    log_has 'sni=hole\.test .*server=\[::1\]:27498 .*connect=- .*term=sC err=connect-timeout'

t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: slow.test' \
    http://127.0.0.1:27480/ || true)
ms=$((($(date +%s%N) - t0) / 1000000))
check "http: a connect that hangs is answered 503 after the timeout (got $code after $ms ms)" \
    test "$code" = 503 -a "$ms" -ge 900 -a "$ms" -lt 3000
check "... logged as a connect timeout" log_has 'l7 .*host=slow\.test .*err=connect-timeout'

stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
