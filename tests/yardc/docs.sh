#!/bin/sh
# Compiles every ```yard block of README.md and docs/*.md with `yardc --check`, each as a
# file in a scratch directory holding copies of the files the examples name (docs/sites/,
# docs/domains-*.txt).
# Usage: tests/yardc/docs.sh path/to/yardc
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 path/to/yardc" >&2
    exit 2
fi
case $1 in
/*) yardc=$1 ;;
*) yardc=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/../../docs" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/work" && cp -R sites domains-*.txt "$tmp/work/" || exit 2
# Blocks are named after their document and number: language-03.yard, README-01.yard.
for doc in ../README.md *.md; do
    awk -v dir="$tmp/work" -v name="$(basename "$doc" .md)" '
        /^```yard[ \t]*$/ { n++; file = sprintf("%s/%s-%02d.yard", dir, name, n); inblock = 1; next }
        /^```/ && inblock { inblock = 0; close(file); next }
        inblock { print > file }
    ' "$doc"
done
pass=0
fail=0
for f in "$tmp"/work/*-[0-9][0-9].yard; do
    [ -e "$f" ] || continue
    b=$(basename "$f" .yard)
    if (cd "$tmp/work" && "$yardc" --check "$b.yard") 2>"$tmp/err"; then
        echo "PASS docs $b"
        pass=$((pass + 1))
    else
        echo "FAIL docs $b"
        sed 's/^/    /' "$tmp/err"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
