#!/usr/bin/env bash
# Nothing that needs a package runs before the step that installs it.
#
# make is asked for its plan (`make -n`) in an empty build directory, one output file at a
# time: a plan for one file holds exactly what that file waits for, so whatever order a
# parallel build picks, a step missing from it would be missing there too. In each plan,
# every command that needs a package (the compiler, lemon or re2c, a header it includes, a
# library it links) must come after the `touch` of the stamp whose group installs that
# package, in the GNUmakefile's PKGS_<GROUP> lists. The entry targets' scripts (tests,
# demo, bench) are checked against the group they are documented to need.
#
# Runs after a full build: the header scan compiles the sources of $BUILD with -M.
# Prints one line per violation; exits 1 if there is any.
set -u
: "${BUILD:=build}"
scratch=$(mktemp -d) || exit 2
trap 'rm -rf "$scratch"' EXIT
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory "$@"; }

declare -A owner      # file of an installed package -> group
declare -A needs      # cache: source file -> groups of the headers it includes
declare -A line_needs # cache: recipe line -> groups it needs
bad=0

# own GROUP PKGS...: every file of these packages (those installed) belongs to GROUP.
own() {
    local g=$1 f
    shift
    while read -r f; do
        [ -z "${owner[$f]:-}" ] && owner[$f]=$g
    done < <(dpkg -L "$@" 2>/dev/null | grep '^/')
}

# group_of PATH: the group of the package holding PATH, following symlinks one step at a
# time (cc -> /etc/alternatives/cc -> /usr/bin/gcc).
group_of() {
    local p=$1 n
    for n in 1 2 3 4 5 6; do
        [ -n "${owner[$p]:-}" ] && { echo "${owner[$p]}"; return; }
        [ -L "$p" ] || return
        p=$(cd "$(dirname "$p")" && realpath -s "$(readlink "$p")")
    done
}

# groups_of_line CTX LINE: sets $groups to the groups one recipe line needs.
groups_of_line() {
    local ctx=$1 line=$2 seg w src='' flags=() words
    groups=
    # Programs: the first word of each command of the line.
    while read -r seg; do
        read -r -a words <<<"$seg"
        for w in "${words[@]}"; do
            case $w in '{' | '(' | '!' | *=*) continue ;; esac
            w=$(type -P "$w") && groups+=" $(group_of "$w")"
            break
        done
    done < <(printf '%s\n' "$line" | sed 's/&&/\n/g; s/||/\n/g; s/[;|]/\n/g')
    read -r -a words <<<"$line"
    for w in "${words[@]}"; do
        case $w in
        -I* | -D* | -std=*) flags+=("${w//$ctx/$BUILD}") ;;
        -l*) groups+=" $(group_of "$(cc -print-file-name="lib${w#-l}.so")")" ;;
        *.c) src=${w//$ctx/$BUILD} ;;
        esac
    done
    [ -n "$src" ] && [ -f "$src" ] || return 0
    # The headers a source includes, once per source.
    if [ -z "${needs[$src]+set}" ]; then
        needs[$src]=$(cc "${flags[@]}" -M "$src" 2>/dev/null | tr -s ' \\' '\n\n' |
            grep '^/' | sort -u | while read -r w; do group_of "$w"; done | sort -u)
    fi
    groups+=" ${needs[$src]}"
}

# check_plan CTX WHAT MAKEARGS...: in the plan for WHAT, every line's groups are stamped
# before it.
check_plan() {
    local ctx=$1 what=$2 n=0 line g
    shift 2
    declare -A stamped=()
    while IFS= read -r line; do
        n=$((n + 1))
        case $line in "touch $ctx/.deps-"*)
            g=${line#"touch $ctx/.deps-"}
            stamped[${g^^}]=$n
            continue ;;
        esac
        if [ -z "${line_needs[$line]+set}" ]; then
            groups_of_line "$ctx" "$line"
            line_needs[$line]=$(printf '%s\n' $groups | sort -u)
        fi
        for g in ${line_needs[$line]}; do
            [ -n "${stamped[$g]:-}" ] && continue
            echo "$what: needs the $g packages but does not wait for $ctx/.deps-${g,,}:"
            echo "    ${line:0:160}"
            bad=1
        done
    done < <(mk -n "$@" 2>&1)
}

# outputs CTX MAKEARGS...: every file a plan names with -o, and the generated grammar.
outputs() {
    local ctx=$1
    shift
    mk -n "$@" 2>/dev/null | grep -o " -o $ctx/[^ ]*" | sed 's/^ -o //' | sort -u
    echo "$ctx/gen/grammar/parser.c"
}

for g in BUILD TEST IMAGE DEB BENCH; do
    # shellcheck disable=SC2046
    own "$g" $(mk -s --eval="_pkgs: ; @echo \$(PKGS_$g)" _pkgs)
done
own BUILD $(mk -s CC=clang --eval='_pkgs: ; @echo $(PKGS_CC)' _pkgs)
[ -n "${owner[/usr/include/stdio.h]:-}" ] || { echo "no package of PKGS_BUILD holds stdio.h"; exit 1; }

# The default build: make, make test, make demo, make install, and the san build of
# make check (the same rules with other flags).
ctx=$scratch/d
checked=0
for f in $(outputs "$ctx" BUILD="$ctx" all test demo install static image); do
    check_plan "$ctx" "$f" BUILD="$ctx" "$f"
    checked=$((checked + 1))
done
# make fuzz: the same objects built by clang, and the libFuzzer binaries.
ctx=$scratch/f
fuzzers=$(mk -s --eval='_n: ; @echo $(patsubst %,$(BUILD)/fuzzer/fuzz_%,$(FUZZ_NAMES))' \
    BUILD="$ctx" _n)
for f in $(outputs "$ctx" BUILD="$ctx" CC=clang $fuzzers); do
    check_plan "$ctx" "$f" BUILD="$ctx" CC=clang "$f"
    checked=$((checked + 1))
done

# The entry targets' scripts.
ctx=$scratch/d
for t in test:tests/run.sh:TEST test:tests/run.sh:IMAGE test:tests/run.sh:DEB demo:examples/demo.sh:TEST \
    bench-quick:tests/bench/run.sh:BENCH bench:tests/bench/run.sh:BENCH \
    deb:contrib/debian/build-deb.sh:DEB; do
    IFS=: read -r target script g <<<"$t"
    plan=$(mk -n BUILD="$ctx" "$target" 2>&1)
    s=$(grep -n -m1 "^touch $ctx/.deps-${g,,}\$" <<<"$plan" | cut -d: -f1)
    r=$(grep -n -m1 "bash $script" <<<"$plan" | cut -d: -f1)
    if [ -z "$r" ]; then
        echo "make $target: no 'bash $script' in its plan"; bad=1
    elif [ -z "$s" ] || [ "$s" -gt "$r" ]; then
        echo "make $target: runs $script before $ctx/.deps-${g,,}"; bad=1
    fi
done

echo "$checked files and 7 entry scripts checked"
exit $bad
