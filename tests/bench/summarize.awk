# Reduces build/bench/results.tsv ("round workload subject metric value" per line) to
#   med   workload subject metric median count
#   ratio workload subject ref    median count
#   ratio workload subject ref:metric median count
# where a ratio is subject/ref for the "main" metric (or the named one: the proxy's CPU per
# request, cpu_us, and the machine's, host_us) in the same round, and its median is taken
# over the rounds where both were measured. Works with mawk (no asort).

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

BEGIN {
    FS = "\t"
    nmet = split("main cpu_us host_us", mets, " ")
    for (i = 1; i <= nmet; i++)
        compared[mets[i]] = 1
}

{
    key = $2 SUBSEP $3 SUBSEP $4
    vals[key] = vals[key] " " $5
    cnt[key]++
    if ($4 in compared) {
        val[$1, $2, $3, $4] = $5
        rounds[$1] = 1
        pair[$2, $3] = 1
    }
}

# ratio WORKLOAD SUBJECT REF METRIC: the median over the rounds of subject/ref.
function ratio(w, s, ref, m,    r, list, n) {
    list = ""
    n = 0
    for (r in rounds) {
        if (((r, w, s, m) in val) && ((r, w, ref, m) in val) && val[r, w, ref, m] + 0 != 0) {
            list = list " " (val[r, w, s, m] / val[r, w, ref, m])
            n++
        }
    }
    if (n)
        printf "ratio\t%s\t%s\t%s\t%.3f\t%d\n", w, s, ref (m == "main" ? "" : ":" m),
            median(list), n
}

END {
    for (key in vals) {
        split(key, k, SUBSEP)
        printf "med\t%s\t%s\t%s\t%s\t%d\n", k[1], k[2], k[3], median(vals[key]), cnt[key]
    }
    nref = split("haproxy direct", refs, " ")
    for (p in pair) {
        split(p, k, SUBSEP)
        for (i = 1; i <= nref; i++)
            for (j = 1; j <= nmet; j++)
                ratio(k[1], k[2], refs[i], mets[j])
    }
}
