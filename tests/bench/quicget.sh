#!/usr/bin/env bash
# quicget.sh HOSTS COUNT HOST PORT URL DIR: fetches URL over HTTP/3 with ngtcp2's client
# (gtlsclient) COUNT times, one after the other, each into DIR emptied first; prints one
# line per fetch:  us=ELAPSED rc=EXIT bytes=SIZE body=FIRST_LETTERS
# ELAPSED is from just before gtlsclient starts to its exit. It runs in a mount namespace
# of its own whose /etc/hosts is HOSTS: gtlsclient sends the name it connects to as its
# SNI, so HOST must resolve to the address under test. Used by tests/bench/quic.sh.
set -u
if [ "${QUICGET_NS:-}" != 1 ]; then
    unshare_cmd=(unshare -m --propagation private)
    [ "$(id -u)" = 0 ] || unshare_cmd=(unshare -Urm --propagation private)
    exec env QUICGET_NS=1 "${unshare_cmd[@]}" "$0" "$@"
fi
hosts=$1 count=$2 host=$3 port=$4 url=$5 dir=$6
mount --bind "$hosts" /etc/hosts || exit 2
PATH=$PATH:/usr/sbin
file=$dir/${url##*/}        # gtlsclient names the file after the path's last part
for _ in $(seq "$count"); do
    rm -rf "$dir"
    mkdir -p "$dir"
    t0=${EPOCHREALTIME/[.,]/}
    timeout 30 gtlsclient -q --timeout=10s --exit-on-all-streams-close --download="$dir" \
        "$host" "$port" "$url" >/dev/null 2>&1
    rc=$?
    t1=${EPOCHREALTIME/[.,]/}
    printf 'us=%s rc=%s bytes=%s body=%s\n' $((t1 - t0)) $rc \
        "$(stat -c %s "$file" 2>/dev/null || echo 0)" \
        "$(head -c 32 "$file" 2>/dev/null | head -n 1 | tr -dc 'a-z0-9-')"
done
rm -rf "$dir"
