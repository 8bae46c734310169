#!/bin/sh
# Golden tests for yardc's diagnostics. For each NAME.yard here, runs
#     cd tests/yardc && yardc --check NAME.yard
# and compares its stderr with NAME.err byte for byte, and its exit status with NAME.code
# if present, else 0 when NAME.err is empty and 1 otherwise.
# Usage: tests/yardc/run.sh path/to/yardc
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 path/to/yardc" >&2
    exit 2
fi
case $1 in
/*) yardc=$1 ;;
*) yardc=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
for yard in *.yard; do
    name=${yard%.yard}
    [ -f "$name.err" ] || continue
    if [ -f "$name.code" ]; then
        want=$(cat "$name.code")
    elif [ -s "$name.err" ]; then
        want=1
    else
        want=0
    fi
    "$yardc" --check "$yard" 2>"$tmp/err" >/dev/null
    got=$?
    if [ "$got" -eq "$want" ] && cmp -s "$tmp/err" "$name.err"; then
        echo "PASS $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name (exit $got, want $want)"
        diff -u "$name.err" "$tmp/err" | head -40
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
