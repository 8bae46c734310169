# Configuration writers for the benchmark harness; sourced by tests/bench/run.sh.
# Every file goes under $B (build/bench). Ports are fixed in 30000-32767 (below the
# kernel's default ephemeral range, so client sockets never collide with them).

# Backends, all on [::1], served by one nginx worker.
P_HTTP_A=31081 P_HTTP_B=31082 P_TLS_A=31441 P_TLS_B=31442
# Proxies, all on 127.0.0.1 (IPv4 clients, IPv6 backends, as in the reference setup).
P_SY_HTTP=30080 P_SY_TLS=30443          # fixed by tests/bench/benchsite.yard
P_HA_HTTP=30180 P_HA_TLS=30543
P_NG_HTTP=30280 P_NG_TLS=30643
P_SN_TLS=30743
P_START=30990                           # start-up runs, one proxy at a time
# QUIC (UDP): switchyard's quic listener shares the TLS port; HTTP/3 servers for a and b,
# and the datagram echo (c.bench.test), on [::1].
P_SY_QUIC=30443                         # fixed by tests/bench/benchsite.yard
P_QUIC_A=31451 P_QUIC_B=31452 P_QUIC_ECHO=31453

NGX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

# Temp paths and pid file so that nginx never writes outside $B.
ngx_common() {     # $1 = instance name
    cat <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
pid $B/run/$1.pid;
error_log $B/logs/$1.error.log warn;
EOF
}

ngx_http_paths() {  # $1 = instance name
    cat <<EOF
    client_body_temp_path $B/tmp/$1/body;
    proxy_temp_path $B/tmp/$1/proxy;
    fastcgi_temp_path $B/tmp/$1/fastcgi;
    uwsgi_temp_path $B/tmp/$1/uwsgi;
    scgi_temp_path $B/tmp/$1/scgi;
EOF
}

write_certs() {
    local s
    for s in a b; do
        [ -s "$B/certs/$s.crt" ] && continue
        # ECDSA P-256: the cheapest common handshake, so the backends saturate late.
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -days 3650 -subj "/CN=$s.bench.test" -addext "subjectAltName=DNS:$s.bench.test" \
            -keyout "$B/certs/$s.key" -out "$B/certs/$s.crt" 2>/dev/null
    done
}

write_backend_conf() {
    local s port_h port_t
    {
        ngx_common backend
        cat <<EOF
events { worker_connections $((FD_LIMIT - 64)); }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
$(ngx_http_paths backend)
EOF
        for s in a b; do
            port_h=$P_HTTP_A port_t=$P_TLS_A
            [ $s = b ] && port_h=$P_HTTP_B port_t=$P_TLS_B
            cat <<EOF
    server {
        listen [::1]:$port_h backlog=4096;
        root $B/www;
        location = / { return 200 "$s-http\n"; }
        location /big { }
    }
    server {
        listen [::1]:$port_t ssl backlog=4096;
        root $B/www;
        ssl_certificate $B/certs/$s.crt;
        ssl_certificate_key $B/certs/$s.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = / { return 200 "$s-tls\n"; }
        location /big { }
    }
EOF
        done
        echo "}"
    } > "$B/conf/backend.conf"
}

# HAProxy, as in the reference article: Host-routed mode http on one side, SNI-routed
# mode tcp with an inspect delay on the other. Logs one line per request/connection.
# $1 = output file; $2 = optional map file (start-up runs: TLS frontend only, on P_START).
write_haproxy_conf() {
    local out=$1 map=${2:-} s
    {
        cat <<EOF
global
    nbthread 1
    maxconn $PROXY_MAXCONN
    log stderr format raw local0 info

defaults
    log global
    maxconn $PROXY_MAXCONN
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    timeout http-request 5s
    option dontlognull

EOF
        if [ -n "$map" ]; then
            cat <<EOF
frontend www-tls
    mode tcp
    option tcplog
    bind 127.0.0.1:$P_START
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend %[req_ssl_sni,lower,map($map)]

backend pool_tls
    mode tcp
    server s1 [::1]:$P_TLS_A
EOF
        else
            cat <<EOF
frontend www
    mode http
    option httplog
    bind 127.0.0.1:$P_HA_HTTP
    use_backend %[req.hdr(host),lower,word(1,:)]_http

frontend www-tls
    mode tcp
    option tcplog
    bind 127.0.0.1:$P_HA_TLS
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend %[req_ssl_sni,lower,word(1,:)]_tls

EOF
            for s in a b; do
                cat <<EOF
backend $s.bench.test_http
    mode http
    server ${s}_http [::1]:$( [ $s = a ] && echo $P_HTTP_A || echo $P_HTTP_B )

backend $s.bench.test_tls
    mode tcp
    server ${s}_tls [::1]:$( [ $s = a ] && echo $P_TLS_A || echo $P_TLS_B )

EOF
            done
        fi
    } > "$out"
}

# nginx as the proxy: stream + ssl_preread + map for TLS, http + server_name + proxy_pass
# with keep-alive upstreams for HTTP. $1 = output file; $2 = optional include file with
# map lines (start-up runs: stream only, on P_START).
write_nginx_proxy_conf() {
    local out=$1 mapinc=${2:-} name=nginx
    [ -n "$mapinc" ] && name=nginx-start
    {
        echo "load_module $NGX_STREAM_MODULE;"
        ngx_common $name
        echo "events { worker_connections $((FD_LIMIT - 64)); }"
        if [ -z "$mapinc" ]; then
            cat <<EOF
http {
    access_log $B/logs/nginx.access.log;
    keepalive_timeout 50s;
    keepalive_requests 100000000;
    client_header_timeout 5s;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_buffering off;
    proxy_request_buffering off;
    proxy_connect_timeout 5s;
    proxy_read_timeout 50s;
    proxy_send_timeout 50s;
$(ngx_http_paths nginx)
    upstream a_http { server [::1]:$P_HTTP_A; keepalive 256; keepalive_requests 100000000; }
    upstream b_http { server [::1]:$P_HTTP_B; keepalive 256; keepalive_requests 100000000; }
    server {
        listen 127.0.0.1:$P_NG_HTTP default_server backlog=4096;
        return 503;
    }
    server {
        listen 127.0.0.1:$P_NG_HTTP;
        server_name a.bench.test;
        location / { proxy_pass http://a_http; }
    }
    server {
        listen 127.0.0.1:$P_NG_HTTP;
        server_name b.bench.test;
        location / { proxy_pass http://b_http; }
    }
}
EOF
        fi
        cat <<EOF
stream {
    log_format l4 '\$remote_addr:\$remote_port [\$time_local] sni=\$ssl_preread_server_name '
                  'up=\$upstream_addr \$status \$bytes_received \$bytes_sent \$session_time';
    access_log $B/logs/$name.stream.log l4;
    map_hash_max_size 4194304;
    map_hash_bucket_size 128;
    upstream a_tls { server [::1]:$P_TLS_A; }
    upstream b_tls { server [::1]:$P_TLS_B; }
EOF
        if [ -n "$mapinc" ]; then
            cat <<EOF
    map \$ssl_preread_server_name \$tls_pool {
        hostnames;
        include $mapinc;
    }
    server {
        listen 127.0.0.1:$P_START backlog=4096;
EOF
        else
            cat <<EOF
    map \$ssl_preread_server_name \$tls_pool {
        hostnames;
        a.bench.test a_tls;
        b.bench.test b_tls;
    }
    server {
        listen 127.0.0.1:$P_NG_TLS backlog=4096;
EOF
        fi
        cat <<EOF
        ssl_preread on;
        preread_timeout 5s;
        proxy_connect_timeout 5s;
        proxy_timeout 50s;
        proxy_pass \$tls_pool;
    }
}
EOF
    } > "$out"
}

# sniproxy (TLS only). Its table is a list of regular expressions tried in order.
# $1 = output file; $2 = optional table body file (start-up runs, on P_START).
write_sniproxy_conf() {
    local out=$1 tbl=${2:-} port=$P_SN_TLS name=sniproxy
    [ -n "$tbl" ] && { port=$P_START; name=sniproxy-start; }
    {
        cat <<EOF
pidfile $B/run/$name.pid

error_log {
    filename $B/logs/$name.error.log
    priority notice
}

listener 127.0.0.1:$port {
    protocol tls
    table bench
    access_log {
        filename $B/logs/$name.access.log
        priority notice
    }
}

table bench {
EOF
        if [ -n "$tbl" ]; then
            cat "$tbl"
        else
            printf '    ^a\\.bench\\.test$ [::1]:%s\n' $P_TLS_A
            printf '    ^b\\.bench\\.test$ [::1]:%s\n' $P_TLS_B
        fi
        echo "}"
    } > "$out"
}

# The HTTP/3 servers' document roots (a small page and the bulk file) and, per subject, the
# /etc/hosts its QUIC client sees: gtlsclient sends the name it connects to as its SNI
# ("localhost" for a numeric address), so the names must resolve to the address under test.
write_quic_conf() {
    local s
    for s in a b; do
        mkdir -p "$B/quic/$s"
        echo "$s-quic" >"$B/quic/$s/index.html"
        ln -sfn ../../www/big "$B/quic/$s/big"
    done
    echo "::1 a.bench.test b.bench.test" >"$B/conf/hosts.direct"
    echo "127.0.0.1 a.bench.test b.bench.test" >"$B/conf/hosts.switchyard"
}
