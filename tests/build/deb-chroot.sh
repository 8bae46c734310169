#!/usr/bin/env bash
# deb-chroot.sh PACKAGE.deb: run by tests/build/deb.sh inside a throwaway root. Installs
# the package, checks that it works, removes and purges it, and checks that nothing of it
# is left. CC, CFLAGS (the build's, for switchyard-build) and VERSION from the environment.
set -u
deb=$1
fail() { echo "FAIL: $*"; exit 1; }
t=$(mktemp -d) || exit 1

dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); if (p != "") print p }' \
    >"$t/paths"
# What of the package's paths exists before: the shared directories (/usr, /usr/bin ...).
while read -r p; do [ -e "$p" ] && echo "$p"; done <"$t/paths" >"$t/before"
getent passwd switchyard >/dev/null && fail "a switchyard user exists before the install"

dpkg -i "$deb" >"$t/log" 2>&1 || { cat "$t/log"; fail "dpkg -i"; }
dpkg-query -W -f='${Status}\n' switchyard | grep -qx 'install ok installed' || fail "not installed"
# Every file matches the package's md5sums.
dpkg --verify switchyard || fail "dpkg --verify"

# The account postinst makes: a system user and its group, no home, no login.
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd switchyard) || fail "no switchyard user"
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] || fail "user: uid $uid, home $home"
[ "$(getent group switchyard | cut -d: -f3)" = "$gid" ] || fail "no switchyard group of gid $gid"
case $shell in */nologin | */false) ;; *) fail "the user's shell is $shell" ;; esac
echo "user: switchyard uid $uid gid $gid home $home shell $shell"

out=$(yardc --version) || fail "yardc --version"
echo "$out"
# the table ABI the installed header declares
abi=$(sed -n 's/^#define YT_ABI \([0-9]*\)$/\1/p' /usr/include/switchyard/table.h)
[ -n "$abi" ] || fail "no YT_ABI in /usr/include/switchyard/table.h"
[ "$out" = "yardc $VERSION (table ABI $abi)" ] || fail "yardc --version: $out"

# The example site, built by the installed toolchain alone, and asked for a route.
cd "$t" || exit 1
out=$(switchyard-build -o sy /usr/share/switchyard/examples/reference.yard) ||
    fail "switchyard-build"
echo "$out"
case $out in "switchyard $VERSION config sha256:"*) ;; *) fail "the binary's --version: $out" ;; esac
./sy --resolve www-tls TEST2.apalrd.net | tee "$t/resolve"
grep -qx 'server: \[2601:40e:69:69::beef\]:443 weight 1' "$t/resolve" || fail "--resolve"

# Every manual page is found by name and renders without a warning.
for page in yardc:1 switchyard-build:1 switchyard-image:1 yard:5 switchyard:8; do
    f=$(man -w "${page#*:}" "${page%:*}") || fail "man ${page#*:} ${page%:*}: not found"
    case $f in *.gz) ;; *) fail "$f is not compressed" ;; esac
    MANWIDTH=80 man --warnings -l "$f" 2>"$t/warn" >"$t/page" || fail "man -l $f"
    [ ! -s "$t/warn" ] || { cat "$t/warn"; fail "$f: warnings"; }
    grep -q '^NAME' "$t/page" || fail "$f: no NAME section"
    echo "man: $f renders"
done

# Vim finds the syntax from its default runtime path, without any setting.
if command -v vim >/dev/null; then
    printf 'listen w tls :443;\n' >"$t/x.yard"
    vim -Nu /etc/vim/vimrc -i NONE -es -c 'filetype on' -c 'syntax on' -c "e $t/x.yard" \
        -c 'redir! >/dev/stdout' -c 'echo &ft synIDattr(synID(1, 1, 1), "name")' \
        -c 'redir END' -c 'qa!' </dev/null | tr -d '\n' | tee "$t/vim"
    echo
    grep -q '^yard yardStatement$' "$t/vim" || fail "vim does not highlight *.yard"
else
    echo "SKIP: vim is not installed: the syntax file's install path is not checked"
fi

# What dpkg says the package installed is what the .deb holds, and what must go.
dpkg -L switchyard | grep -vx '/\.' | sort >"$t/listed"
sort "$t/paths" | diff - "$t/listed" || fail "dpkg -L differs from the contents of the .deb"
dpkg -r switchyard >"$t/log" 2>&1 || { cat "$t/log"; fail "dpkg -r"; }
getent passwd switchyard >/dev/null || fail "dpkg -r removed the user (purge should)"
dpkg -P switchyard >"$t/log" 2>&1 || { cat "$t/log"; fail "dpkg -P"; }
dpkg-query -W -f='${Status}\n' switchyard 2>/dev/null | grep -q installed &&
    fail "still known to dpkg after purge"
ls /var/lib/dpkg/info/switchyard.* 2>/dev/null && fail "dpkg's records of the package are left"
getent passwd switchyard && fail "the user is left after purge"
getent group switchyard && fail "the group is left after purge"
while read -r p; do [ -e "$p" ] && echo "$p"; done <"$t/listed" >"$t/after"
sort "$t/before" | diff - "$t/after" || fail "left after purge (lines with >)"
[ "$(wc -l <"$t/listed")" -gt 30 ] || fail "dpkg -L listed too little"
echo "purged: $(wc -l <"$t/paths") paths of the package, none left"
