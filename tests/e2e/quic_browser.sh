#!/usr/bin/env bash
# A real browser over HTTP/3 through the proxy: headless Chromium, forced onto QUIC for the
# origin, loads a page whose server is chosen by the SNI of its Initials (tests/e2e/quic.yard).
# Ports: 24743 (quic), servers 24701-24703 on [::1].
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

need_ngtcp2 gtlsserver
if ! command -v chromium >/dev/null; then
    ok "# SKIP chromium not installed (Debian package chromium)"
    finish
fi
h3_backend alpha.test 24701
h3_backend beta.test 24702
proxy quic

# page NAME: the DOM Chromium builds from https://NAME/index.html, QUIC only, NAME:443
# mapped to the proxy, the server's self-signed key trusted by its hash.
page() {
    local spki
    spki=$(openssl x509 -in "$WORK/$1.crt" -pubkey -noout | openssl pkey -pubin -outform der |
           openssl dgst -sha256 -binary | base64)
    mkdir -p "$WORK/chromium-$1"
    HOME=$WORK/chromium-$1 timeout 40 chromium --headless=new --no-sandbox --disable-gpu \
        --no-first-run --user-data-dir="$WORK/chromium-$1" --origin-to-force-quic-on="$1:443" \
        --host-resolver-rules="MAP $1:443 127.0.0.1:24743" \
        --ignore-certificate-errors-spki-list="$spki" \
        --dump-dom "https://$1/index.html" 2>"$WORK/chromium-$1.err" || true
}

check "Chromium over HTTP/3 loads alpha.test from the alpha server" \
    grep -q 'this is alpha.test' <<<"$(page alpha.test)"
check "Chromium over HTTP/3 loads beta.test from the beta server" \
    grep -q 'this is beta.test' <<<"$(page beta.test)"
check "... both through the quic listener (there is no TCP server behind the tls one)" \
    log_has 'listener=h3 sni=beta\.test site=beta\.test server=\[::1\]:24702 c2s=[1-9][0-9]* s2c=[1-9][0-9]* .*term=--'
stop_proxy
check "the proxy stops cleanly" test "$PROXY_RC" = 0
finish
