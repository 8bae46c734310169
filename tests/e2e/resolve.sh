#!/usr/bin/env bash
# Every `expect` of every example, asked again of the built binary: `switchyard --resolve`
# must give the same answer as yardc's compile-time check (both use yt_resolve; this
# proves the emitted table, not only the compiler's in-memory one, routes as expected).
set -euo pipefail
BUILD=${BUILD:-build}
failed=0
count=0

# answer BIN LISTENER HOST [PATH]: the decision in the words of an expect's right side.
answer() {
    "$@" | awk '
        /^action: (pool|fallback)/ { pool = 1 }
        /^action: status /  { print $3; exit }
        /^action: alert/    { print "alert"; exit }
        /^action: redirect/ { print "redirect " $3; exit }
        /^server: /         { s = s (s == "" ? "" : ", ") $2 }
        END                 { if (pool) print s }'
}

# expect LISTENER HOST ["PATH"] -> RESULT;
re='^[[:space:]]*expect[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+("([^"]*)"[[:space:]]+)?->[[:space:]]*([^;]*[^;[:space:]])[[:space:]]*;'
for yard in examples/*.yard; do
    bin=$BUILD/$(basename "$yard" .yard)/switchyard
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        listener=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]}
        path=${BASH_REMATCH[4]} result=${BASH_REMATCH[5]}
        count=$((count + 1))
        got=$(answer "$bin" --resolve "$listener" "$host" ${path:+"$path"})
        if [ "$got" = "$result" ]; then
            echo "ok - $yard: $listener $host $path -> $result"
        else
            echo "not ok - $yard: $listener $host $path: expected '$result', got '$got'"
            failed=1
        fi
    done < <(sed 's/#.*//' "$yard")
done
[ "$count" -gt 0 ] || { echo "not ok - no expect statements found"; exit 1; }
exit "$failed"
