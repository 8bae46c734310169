#!/bin/sh
# Builds every site of a repository of switchyard configurations, as CI would.
#
#   build-sites.sh [-r REPO] [-o OUT]
#
# For each REPO/sites/*.yard (REPO: default the current directory): `yardc --check` (the
# file's errors, warnings and `expect` tests), the static binary built twice in two
# directories and compared byte for byte, then OUT/NAME/ (OUT: default REPO/artefacts):
#
#   switchyard          the static binary
#   switchyard.sha256   its SHA-256, as `sha256sum -c` reads it
#   digest              the configuration digest the binary carries (sha256:...)
#   config.yard         its `--print-config`: the canonical configuration
#   version             its `--version`
#
# Needs yardc and switchyard-build from `make install` on PATH (or in $SWITCHYARD_BIN), a
# C compiler, libc6-dev, libev-dev, libseccomp-dev and libbpf-dev. YARDC_FLAGS (e.g.
# -Werror) go to both yardc runs.
# Every site is tried; the exit status is 1 when any failed, 2 on a usage error.
set -u

repo=.
out=
while [ $# -gt 0 ]; do
    case $1 in
    -r) [ $# -ge 2 ] || exit 2; repo=$2; shift ;;
    -o) [ $# -ge 2 ] || exit 2; out=$2; shift ;;
    *) echo "usage: build-sites.sh [-r REPO] [-o OUT]" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$out" ] || out=$repo/artefacts
[ -z "${SWITCHYARD_BIN:-}" ] || PATH=$SWITCHYARD_BIN:$PATH
for tool in yardc switchyard-build sha256sum cmp; do
    command -v "$tool" >/dev/null || { echo "build-sites.sh: $tool: not found" >&2; exit 2; }
done
flags=${YARDC_FLAGS:-}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
failed=

# build_site YARD DIR: the artefacts of one site into DIR; the reason on stderr if not.
build_site() {
    yard=$1 dir=$2
    # shellcheck disable=SC2086
    yardc --check $flags "$yard" || return 1
    for n in 1 2; do
        mkdir -p "$tmp/$n" || return 1
        # shellcheck disable=SC2086
        switchyard-build --static $flags -o "$tmp/$n/switchyard" "$yard" >"$tmp/$n/log" 2>&1 ||
            { cat "$tmp/$n/log" >&2; return 1; }
    done
    cmp "$tmp/1/switchyard" "$tmp/2/switchyard" >&2 ||
        { echo "$yard: two builds differ: the build is not reproducible" >&2; return 1; }
    mkdir -p "$dir" || return 1
    cp "$tmp/1/switchyard" "$dir/switchyard" || return 1
    (cd "$dir" && sha256sum switchyard >switchyard.sha256) || return 1
    "$dir/switchyard" --version >"$dir/version" || return 1
    sed -n 's/.* config \(sha256:[0-9a-f]*\)$/\1/p' "$dir/version" >"$dir/digest"
    [ -s "$dir/digest" ] || { echo "$yard: no digest in '$(cat "$dir/version")'" >&2; return 1; }
    "$dir/switchyard" --print-config >"$dir/config.yard"
}

found=
for yard in "$repo"/sites/*.yard; do
    [ -e "$yard" ] || continue
    found=1
    name=$(basename "$yard" .yard)
    rm -rf "${tmp:?}"/1 "${tmp:?}"/2 "$out/$name"
    if build_site "$yard" "$out/$name"; then
        echo "ok     $name $(cat "$out/$name/digest")"
    else
        echo "FAIL   $name"
        rm -rf "$out/$name"
        failed=1
    fi
done
[ -n "$found" ] || { echo "build-sites.sh: no $repo/sites/*.yard" >&2; exit 1; }
[ -z "$failed" ]
