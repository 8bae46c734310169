#!/bin/sh
# Writes a deterministic list of N domains (one a line, about 1 in 10 a wildcard) and a
# matching routing file: gen-domains.sh N OUTDIR -> OUTDIR/domains.txt, OUTDIR/site.yard.
# Sites share pools of two backends each, one pool per 100 sites.
set -eu
n=${1:?usage: gen-domains.sh N OUTDIR}
out=${2:?usage: gen-domains.sh N OUTDIR}
mkdir -p "$out"
awk -v n="$n" -v out="$out" '
BEGIN {
    split("shop api www mail cdn app blog docs status git wiki auth pay img static news", w1)
    split("acme north blue river stone cloud orbit pixel maple cedar delta nova", w2)
    split("com net org io de fr nl eu dev app", tld)
    x = 20240613                        # Park-Miller: exact in double arithmetic
    dom = out "/domains.txt"; yard = out "/site.yard"
    print "# " n " generated sites (tests/bench/table/gen-domains.sh)" > yard
    print "listen www-tls tls  :443;\n" > yard
    for (i = 0; i < n; i++) {
        x = (x * 16807) % 2147483647; a = x % 16 + 1
        x = (x * 16807) % 2147483647; b = x % 12 + 1
        x = (x * 16807) % 2147483647; c = x % 10 + 1
        name = w2[b] "-" i "." w1[a] "." tld[c]
        if (i % 10 == 7)
            name = "*.apps-" i "." w2[b] "." tld[c]
        print name > dom
        p = int(i / 100)
        if (i % 100 == 0)
            printf "pool p%x { server [2001:db8:%x::a]:443; server [2001:db8:%x::b]:443; }\n",
                p, p, p > yard
        printf "site %s { tls p%x; }\n", name, p > yard
    }
}'
