#!/bin/sh
# The build of a big site, step by step: N generated domains (gen-domains.sh: one `site`
# statement each, a pool of two servers per 100 sites) from the .yard to a linked
# switchyard, RUNS times. Each step runs under /usr/bin/time -v: yardc (table.c and
# table-data.o), cc -c table.c, the link. Per run it prints wall seconds and peak RSS of
# each step and their sums, and the CPU seconds (user + system) of all three, which a
# shared machine disturbs less than the wall time; then the best and the median run (by
# the sum of the wall times), the binary's size and bytes per domain. Before measuring, the binary must
# route the first and the last domain of the list (a wildcard by one of its names) and
# print the configuration its digest covers. Run from the top of the tree after
# `make` (it links build/obj/runtime/main.o and build/libswitchyard.a with the libraries
# in SITE_LIBS, which make bench passes on: the GNUmakefile's); outputs go to OUTDIR
# (default build/bench/build/N).
#
#   SITE_LIBS=... build.sh [-r RUNS] N [OUTDIR]
set -eu
runs=3
if [ "${1:-}" = -r ]; then
    runs=$2
    shift 2
fi
n=${1:?usage: build.sh [-r RUNS] N [OUTDIR]}
B=${BUILD:-build}
out=${2:-$B/bench/build/$n}
CC=${CC:-cc}
libs=${SITE_LIBS:?build.sh: SITE_LIBS: the libraries a site links (make bench sets it)}
CFLAGS=${CFLAGS:--O2 -g}
here=tests/bench/table
[ -x /usr/bin/time ] || { echo "build.sh: needs GNU time as /usr/bin/time" >&2; exit 2; }
for f in "$B/yardc" "$B/obj/runtime/main.o" "$B/libswitchyard.a"; do
    [ -e "$f" ] || { echo "build.sh: no $f: run make first" >&2; exit 2; }
done
mkdir -p "$out"
[ -s "$out/site.yard" ] || $here/gen-domains.sh "$n" "$out" >/dev/null

# step NAME CMD...: runs CMD under /usr/bin/time -v; appends "NAME wall_s rss_kib cpu_s".
step() {
    name=$1
    shift
    /usr/bin/time -v -o "$out/$name.time" "$@" || { cat "$out/$name.time" >&2; exit 1; }
    awk -v s="$name" -F': ' '
        /Elapsed \(wall clock\)/ { k = split($2, t, ":"); w = 0
                                   for (i = 1; i <= k; i++) w = w * 60 + t[i] }
        /Maximum resident set size/ { m = $2 }
        /(User|System) time \(seconds\)/ { c += $2 }
        END { printf "%s %.2f %d %.2f\n", s, w, m, c }' "$out/$name.time" >>"$out/steps.txt"
}

one_run() {
    : >"$out/steps.txt"
    rm -f "$out/table.c" "$out/table-data.o" "$out/table.o" "$out/switchyard"
    step yardc "$B/yardc" -o "$out/table.c" "$out/site.yard"
    # shellcheck disable=SC2086
    step cc $CC -std=c11 $CFLAGS -ffile-prefix-map="$PWD=." -Iruntime -c -o "$out/table.o" \
        "$out/table.c"
    # shellcheck disable=SC2086
    step ld $CC $CFLAGS -o "$out/switchyard" "$B/obj/runtime/main.o" "$out/table.o" \
        "$out/table-data.o" "$B/libswitchyard.a" $libs
}

# The binary answers for the names it was built from.
check_binary() {
    sy=$out/switchyard
    for name in "$(head -n 1 "$out/domains.txt")" "$(tail -n 1 "$out/domains.txt")"; do
        host=$(echo "$name" | sed 's/^\*/www/')
        "$sy" --resolve www-tls "$host" | grep -qxF "site: $name" ||
            { echo "build.sh: $sy does not route $host to $name" >&2; exit 1; }
    done
    sum=$("$sy" --print-config | sha256sum | cut -d' ' -f1)
    "$sy" --version | grep -q "sha256:$sum\$" ||
        { echo "build.sh: --print-config does not match the digest" >&2; exit 1; }
}

one_run
check_binary
bytes=$(stat -c %s "$out/switchyard")
: >"$out/runs.txt"
printf '%-4s %8s %8s %8s %8s %9s %9s %9s %9s %8s\n' run yardc_s cc_s ld_s total_s \
    yardc_MB cc_MB ld_MB total_MB cpu_s
for r in $(seq "$runs"); do
    [ "$r" = 1 ] || one_run
    awk -v r="$r" '{ w[NR] = $2; m[NR] = $3 / 1024; c += $4 }
        END { printf "%-4s %8.2f %8.2f %8.2f %8.2f %9.0f %9.0f %9.0f %9.0f %8.2f\n", r, w[1],
              w[2], w[3], w[1] + w[2] + w[3], m[1], m[2], m[3], m[1] + m[2] + m[3], c }' \
        "$out/steps.txt" | tee -a "$out/runs.txt"
done
sort -n -k5 "$out/runs.txt" | awk -v n="$n" -v bytes="$bytes" '
    { line[NR] = $0 }
    END {
        printf "best   %s\n", substr(line[1], 6)
        printf "median %s\n", substr(line[int((NR + 1) / 2)], 6)
        printf "domains=%d binary_bytes=%d bytes_per_domain=%.1f\n", n, bytes, bytes / n
    }'
