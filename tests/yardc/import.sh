#!/bin/sh
# Tests of `yardc import`. For each NAME.cfg in tests/yardc/import, runs
#     cd tests/yardc/import && yardc import --root root NAME.cfg
# and compares its standard output with NAME.yard (none: it must print nothing and exit
# 1) and its standard error with NAME.err (none: it must be empty). Each NAME.yard must
# compile with its own expect lines. Then the translations of the reference article's
# configurations describe the same routes as the hand translations in examples/: the
# same canonical text but for the expect lines, and each side's expect lines hold on the
# other side's configuration.
# Usage: tests/yardc/import.sh path/to/yardc
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 path/to/yardc" >&2
    exit 2
fi
case $1 in
/*) yardc=$1 ;;
*) yardc=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/import" || exit 2
examples=../../../examples
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

result() {
    if [ "$1" -eq 0 ]; then
        echo "PASS $2"
        pass=$((pass + 1))
    else
        echo "FAIL $2"
        fail=$((fail + 1))
    fi
}

for cfg in *.cfg; do
    name=${cfg%.cfg}
    want=1
    [ -f "$name.yard" ] && want=0
    "$yardc" import --root root "$cfg" >"$tmp/out" 2>"$tmp/err"
    got=$?
    ok=0
    [ "$got" -eq "$want" ] || { echo "exit $got, want $want"; ok=1; }
    if [ -f "$name.yard" ]; then
        diff -u "$name.yard" "$tmp/out" | head -40 || ok=1
        cmp -s "$name.yard" "$tmp/out" || ok=1
        "$yardc" --check "$name.yard" || ok=1
    else
        [ -s "$tmp/out" ] && { echo "$name: output on failure"; ok=1; }
    fi
    if [ -f "$name.err" ]; then
        cmp -s "$name.err" "$tmp/err" || { diff -u "$name.err" "$tmp/err" | head -40; ok=1; }
    else
        [ -s "$tmp/err" ] && { cat "$tmp/err"; ok=1; }
    fi
    result $ok "import $name"
done

# The article's configurations against their hand translations, with the error pages
# the hand translation uses.
mkdir -p "$tmp/root/etc/haproxy" "$tmp/hand" &&
    cp -r "$examples/errors" "$tmp/root/etc/haproxy/errors" &&
    cp -r "$examples/errors" "$tmp/hand/errors" || exit 2
for name in reference reference-redirect; do
    ok=0
    "$yardc" import --root "$tmp/root" "$name.cfg" >"$tmp/imported.yard" 2>/dev/null || ok=1
    "$yardc" --print "$tmp/imported.yard" | grep -v '^expect ' >"$tmp/a" || ok=1
    "$yardc" --print "$examples/$name.yard" | grep -v '^expect ' >"$tmp/b" || ok=1
    diff -u "$tmp/b" "$tmp/a" || ok=1
    { cat "$tmp/imported.yard"; grep '^expect ' "$examples/$name.yard"; } >"$tmp/x.yard"
    "$yardc" --check "$tmp/x.yard" || ok=1
    { cat "$examples/$name.yard"; grep '^expect ' "$tmp/imported.yard"; } >"$tmp/hand/y.yard"
    "$yardc" --check "$tmp/hand/y.yard" || ok=1
    result $ok "import $name describes the routes of examples/$name.yard"
done

# -o writes the file whole; an untranslatable file leaves no output file behind.
ok=0
"$yardc" import --root root -o "$tmp/o.yard" reference.cfg && cmp -s reference.yard "$tmp/o.yard" ||
    ok=1
"$yardc" import -o "$tmp/e.yard" errors.cfg 2>/dev/null && ok=1
[ -e "$tmp/e.yard" ] || [ -e "$tmp/e.yard.tmp" ] && ok=1
result $ok "import -o"

# Without --root, an absolute map or error file path is read as it is.
ok=0
"$yardc" import debian.cfg >/dev/null 2>"$tmp/err"
got=$?
if [ -d /etc/haproxy/errors ]; then
    [ "$got" -eq 0 ] || { cat "$tmp/err"; ok=1; }
else
    [ "$got" -eq 1 ] && grep -q "cannot read error page '/etc/haproxy/errors/400.http'" \
        "$tmp/err" || ok=1
fi
result $ok "import without --root"

# The fixtures are real HAProxy configurations (checked when haproxy is installed).
if command -v haproxy >/dev/null; then
    ok=0
    for cfg in reference.cfg reference-redirect.cfg map.cfg debian.cfg; do
        haproxy -c -q -f "$cfg" || { echo "haproxy refuses $cfg"; ok=1; }
    done
    result $ok "the fixtures are valid for haproxy"
else
    echo "SKIP the fixtures are valid for haproxy (haproxy is not installed)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
