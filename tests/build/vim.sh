#!/usr/bin/env bash
# contrib/vim: Vim takes *.yard files for yard files and highlights each kind of token of
# the language as its own group; a keyword inside a name (www-tls, http.example) is not
# highlighted. Each probe is a line number, a piece of that line, and the group Vim must
# give the first character of that piece (none: no group).
set -u
command -v vim >/dev/null || { echo "SKIP: vim is not installed"; exit 0; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/t.yard" <<'YARD'
# a comment TODO
listen www-tls tls :443, 127.0.0.1:8443 { fallback apps; }
pool apps { server [2001:db8::a]:443 weight 2 send-proxy-v2; }
defaults { timeout connect 250ms; error 503 text "a\x41\q"; max-head 16k; }
site http.example { http [2001:db8::1]:80; }
expect www-tls http.example -> alert;
YARD
tr '|' '\t' >"$tmp/probes" <<'PROBES'
1|#|yardComment
1|TODO|yardTodo
2|listen|yardStatement
2|www-tls|none
2|tls :|yardMode
2|:443|yardAddress
2|127.0.0.1:8443|yardAddress
2|{|yardDelimiter
2|fallback|yardOption
3|server|yardOption
3|[2001|yardAddress
3|send-proxy-v2|yardOption
3|2 send|yardNumber
4|timeout|yardOption
4|connect|yardConstant
4|250ms|yardDuration
4|"a|yardString
4|\x41|yardEscape
4|\q|yardBadEscape
4|16k|yardSize
5|http.example|none
5|http [|yardMode
6|->|yardArrow
6|alert|yardConstant
PROBES
# Writes the file type, then a line for each probe that finds another group.
cat >"$tmp/probe.vim" <<'VIM'
let s:out = ['filetype ' . &ft]
for [l, t, g] in map(readfile($PROBES), 'split(v:val, "\t")')
  let n = synIDattr(synID(l, stridx(getline(l), t) + 1, 1), 'name')
  if n !=# (g ==# 'none' ? '' : g)
    call add(s:out, 'line ' . l . ' ' . t . ': ' . (n ==# '' ? 'none' : n) . ', not ' . g)
  endif
endfor
call writefile(s:out, $OUT)
VIM
PROBES=$tmp/probes OUT=$tmp/out vim -Nu NONE -i NONE -es --cmd "set rtp^=$PWD/contrib/vim" \
    -c 'filetype on' -c 'syntax on' -c "e $tmp/t.yard" -c "source $tmp/probe.vim" -c 'qa!' \
    </dev/null
cat "$tmp/out"
grep -q '^filetype yard$' "$tmp/out" || { echo "*.yard is not detected as yard"; exit 1; }
! grep -q '^line' "$tmp/out"
