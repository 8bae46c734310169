# Reduces build/bench/results.tsv ("round workload subject metric value" per line) to
#   med   workload subject metric median count
#   ratio workload subject ref    median count
# where a ratio is subject/ref for the "main" metric in the same round, and its median is
# taken over the rounds where both were measured. Works with mawk (no asort).

function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) {
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
            a[j + 1] = a[j]
        a[j + 1] = t
    }
    if (n == 0)
        return ""
    if (n % 2)
        return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}

BEGIN { FS = "\t" }

{
    key = $2 SUBSEP $3 SUBSEP $4
    vals[key] = vals[key] " " $5
    cnt[key]++
    if ($4 == "main") {
        main[$1, $2, $3] = $5
        rounds[$1] = 1
        pair[$2, $3] = 1
    }
}

END {
    for (key in vals) {
        split(key, k, SUBSEP)
        printf "med\t%s\t%s\t%s\t%s\t%d\n", k[1], k[2], k[3], median(vals[key]), cnt[key]
    }
    nref = split("haproxy direct", refs, " ")
    for (p in pair) {
        split(p, k, SUBSEP)
        for (i = 1; i <= nref; i++) {
            list = ""
            n = 0
            for (r in rounds) {
                if (((r, k[1], k[2]) in main) && ((r, k[1], refs[i]) in main) &&
                    main[r, k[1], refs[i]] + 0 != 0) {
                    list = list " " (main[r, k[1], k[2]] / main[r, k[1], refs[i]])
                    n++
                }
            }
            if (n)
                printf "ratio\t%s\t%s\t%s\t%.3f\t%d\n", k[1], k[2], refs[i], median(list), n
        }
    }
}
