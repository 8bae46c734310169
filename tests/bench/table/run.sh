#!/bin/sh
# Table-size benchmark: for each N (default 1000 100000 1000000), generate N sites (one
# `site` statement each, its own pool of two servers), build the table with tablegen (the
# hash alone, timed) and compile the same sites with yardc ($YARDC, default build/yardc:
# the whole compiler, timed; its table.c is the one measured next), compile that with
# $CC -O2 -c, link the lookup benchmark with it and table-data.o, and run it. Run from the
# top of the tree after `make`; outputs go to build/bench/table/.
#
#   columns: phash build ms | table bytes per domain: hash arrays, everything (arrays +
#   blob with the configuration text) | yardc wall s, peak RSS MB | cc -O2 -c wall s, CPU s,
#   peak RSS MB | yt_find ns: hit, miss from .rodata, then hit, miss from a copy in
#   anonymous memory
set -eu
CC=${CC:-cc}
out=${BUILD:-build}/bench/table
YARDC=${YARDC:-${BUILD:-build}/yardc}
here=tests/bench/table
flags="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Iruntime -Icompiler"
[ $# -gt 0 ] || set -- 1000 100000 1000000
if ! [ -x /usr/bin/time ]; then
    echo "run.sh: needs GNU time as /usr/bin/time" >&2
    exit 2
fi
[ -x "$YARDC" ] || { echo "run.sh: no $YARDC: run make first" >&2; exit 2; }
mkdir -p "$out"
$CC $flags -o "$out/tablegen" $here/tablegen.c compiler/phash.c compiler/emit.c compiler/sha256.c
$CC $flags -c -o "$out/lookup.o" $here/lookup.c
printf '%9s %8s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n' domains phash_ms hash_B \
    total_B yardc_s yard_MB cc_s cc_cpu cc_MB hit_ns miss_ns ahit_ns amiss_ns
for n in "$@"; do
    d=$out/$n
    [ -s "$d/domains.txt" ] || $here/gen-domains.sh "$n" "$d"
    g=$("$out/tablegen" "$d/domains.txt" "$d/tablegen.c" "$d/site.yard")
    /usr/bin/time -f '%e %M' -o "$d/yardc.time" "$YARDC" -o "$d/table.c" "$d/site.yard"
    read -r ywall yrss < "$d/yardc.time"
    /usr/bin/time -f '%e %U %S %M' -o "$d/cc.time" $CC -std=c11 -O2 -Wall -Wextra -Werror \
        -Iruntime -c -o "$d/table.o" "$d/table.c"
    $CC -o "$d/lookup" "$out/lookup.o" "$d/table.o" "$d/table-data.o"
    l=$("$d/lookup")
    get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
    read -r wall user sys rss < "$d/cc.time"
    printf '%9s %8s %7s %7s %7s %7d %7s %7.2f %7d %7s %7s %7s %7s\n' "$n" \
        "$(get "$g" phash_ms)" "$(get "$g" hash_B)" "$(get "$g" total_B)" "$ywall" \
        $((yrss / 1024)) "$wall" "$(echo "$user + $sys" | bc)" \
        $((rss / 1024)) "$(get "$l" hit_ns)" "$(get "$l" miss_ns)" "$(get "$l" anon_hit_ns)" \
        "$(get "$l" anon_miss_ns)"
done
