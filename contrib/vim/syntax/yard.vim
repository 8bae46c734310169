" Vim syntax file
" Language:	switchyard routing configuration (yard(5), docs/language.md)
" Filenames:	*.yard

if exists("b:current_syntax")
  finish
endif

" Names run on through '-', '.' and '_': www-tls, send-proxy-v2 and http.example.com are
" one word each, so a keyword inside a name is not highlighted.
syn iskeyword @,48-57,_,-,.,192-255
syn case match

syn keyword yardTodo contained TODO FIXME XXX NOTE
syn match yardComment "#.*$" contains=yardTodo,@Spell

syn match yardEscape contained +\\\(["\\nrt]\|x\x\x\)+
syn match yardBadEscape contained +\\[^"\\nrtx]\|\\x\(\x\x\)\@!+
syn region yardString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ oneline
      \ contains=yardEscape,yardBadEscape

" Statements
syn keyword yardStatement include global defaults listen pool site domains expect

" Settings and options inside blocks and statements
syn keyword yardOption user group chroot log admin mode level workers maxconn timeout relay
syn keyword yardOption dontlognull error file text fallback forwarded-for max-head
syn keyword yardOption status port server weight backup send-proxy send-proxy-v2 acme
syn keyword yardOption log-format sample format accept-proxy optional from
" Health checks: `check` in a pool or in defaults, and its options
syn keyword yardOption check interval rise fall method path host

" Listener modes (also the protocols of a site's pools)
syn keyword yardMode tls http redirect metrics quic

" Values with a fixed vocabulary
syn keyword yardConstant stderr syslog udp alert operator off
syn keyword yardConstant rfc3164 rfc5424 json tcp kernel auto
syn keyword yardConstant connect client inspect tunnel grace retry
syn keyword yardConstant kern mail daemon auth lpr news uucp cron authpriv ftp ntp audit cron2
syn keyword yardConstant local0 local1 local2 local3 local4 local5 local6 local7
syn keyword yardConstant emerg crit err warning notice info debug

" Numbers, durations (1ms to 24h), sizes (k: KiB, m: MiB)
syn match yardNumber "\<\d\+\>"
" a check's status range: 200-299
syn match yardNumber "\<\d\{3}-\d\{3}\>"
syn match yardDuration "\<\d\+\(ms\|s\|m\|h\)\>"
syn match yardSize "\<\d\+[km]\>"

" Addresses: [IPv6]:port, a.b.c.d:port, :port and *:port; the source ranges of
" accept-proxy: a.b.c.d, a.b.c.d/n, IPv6 and IPv6/n, bare or in brackets
syn match yardAddress "\[[0-9A-Fa-f:.]*\]\(:\d\+\|/\d\{1,3}\)\="
syn match yardAddress "\<\d\{1,3}\(\.\d\{1,3}\)\{3}\(:\d\+\|/\d\{1,3}\)\=\>"
syn match yardAddress "\(^\|[[:space:],]\)\zs\*\=:\d\+\>"
syn match yardAddress "\(^\|[[:space:],]\)\zs\x*:\x*:[0-9A-Fa-f:.]*\(/\d\{1,3}\)\="

syn match yardArrow "->"
syn match yardDelimiter "[{};,]"

hi def link yardComment Comment
hi def link yardTodo Todo
hi def link yardString String
hi def link yardEscape SpecialChar
hi def link yardBadEscape Error
hi def link yardStatement Statement
hi def link yardOption Keyword
hi def link yardMode Type
hi def link yardConstant Constant
hi def link yardNumber Number
hi def link yardDuration Number
hi def link yardSize Number
hi def link yardAddress Special
hi def link yardArrow Operator
hi def link yardDelimiter Delimiter

let b:current_syntax = "yard"
