#!/usr/bin/env bash
# The manual pages keep up with the sources: every option of yardc, switchyard and
# switchyard-build, every warning, every admin socket command and every keyword of the
# language is named in its page (and each keyword in the Vim syntax), and every page
# renders without a warning from man (groff -ww). Prints what is missing; exits 1 if any.
set -u
bad=0

# text PAGE: the page's words as a reader sees them (roff escapes and fonts removed).
text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\(dq/"/g' -e 's/\\c//g' "$1"; }

# names FILE WHAT NAME...: each NAME appears in FILE as a word of its own.
names() {
    local file=$1 what=$2 n re
    shift 2
    for n in "$@"; do
        re=$(printf '%s' "$n" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
        grep -qE "(^|[^A-Za-z0-9_-])$re([^A-Za-z0-9_-]|\$)" "$file" ||
            { echo "${file##*/}: $what '$n' is not there"; bad=1; }
    done
}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
for p in man/*.[158]; do text "$p" >"$tmp/$(basename "$p")"; done

# yardc: the literals its command line is compared with, and the warnings' names.
mapfile -t opts < <(grep -o 'strn\{0,1\}cmp([a-z]*, "-[^"]*"' compiler/main.c |
    grep -o '"-[^"]*"' | tr -d '"' | sort -u)
mapfile -t warns < <(grep -o '\[DIAG_W_[A-Z]*\] = "[a-z]*"' compiler/diag.c |
    sed 's/.*"\(.*\)"/-W\1/')
[ "${#opts[@]}" -ge 8 ] && [ "${#warns[@]}" -ge 3 ] || { echo "yardc's options not found"; exit 1; }
names "$tmp/yardc.1" "yardc option" "${opts[@]}" "${warns[@]}"

# switchyard: its options and the admin socket's commands.
mapfile -t opts < <(grep -o 'strcmp(argv\[1\], "-[^"]*"' runtime/main.c | grep -o '"-[^"]*"' |
    tr -d '"' | sort -u)
mapfile -t cmds < <(grep -o '^ *{ "[^"]*", LEVEL_' runtime/admin.c | sed 's/^ *{ "\([^"]*\)".*/\1/')
[ "${#opts[@]}" -ge 4 ] && [ "${#cmds[@]}" -ge 6 ] || { echo "switchyard's options not found"; exit 1; }
names "$tmp/switchyard.8" "switchyard option" "${opts[@]}"
names "$tmp/switchyard.8" "admin command" "${cmds[@]}"

# switchyard-build: the options its case statement takes.
mapfile -t opts < <(sed -n 's/^ *\(-[-a-z]*\)\(\*\)\{0,1\})[^;]*;.*/\1/p' tools/switchyard-build | grep -vx -- -)
[ "${#opts[@]}" -ge 3 ] || { echo "switchyard-build's options not found"; exit 1; }
names "$tmp/switchyard-build.1" "switchyard-build option" "${opts[@]}"

# The language: the lexer's keyword table.
mapfile -t kws < <(grep -o 'KW("[a-z0-9-]*", TK_' grammar/lexer.re | sed 's/KW("\(.*\)".*/\1/')
[ "${#kws[@]}" -ge 30 ] || { echo "the lexer's keywords not found"; exit 1; }
names "$tmp/yard.5" "keyword" "${kws[@]}"
grep '^syn keyword' contrib/vim/syntax/yard.vim >"$tmp/yard.vim"
names "$tmp/yard.vim" "keyword" "${kws[@]}"

for p in man/*.[158]; do
    MANWIDTH=80 man --warnings -l "$p" 2>"$tmp/warn" >/dev/null || { echo "$p: man failed"; bad=1; }
    [ -s "$tmp/warn" ] && { echo "$p:"; cat "$tmp/warn"; bad=1; }
done
echo "$(ls man/*.[158] | wc -l) pages checked"
exit $bad
