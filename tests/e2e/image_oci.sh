#!/usr/bin/env bash
# make image: an OCI image layout that skopeo and umoci read, built again elsewhere to the
# same bytes, whose one layer holds the static binary and a passwd and group entry and
# nothing else; its unpacked rootfs, chrooted into, runs the binary as the image's user
# and routes to a backend on [::1]. Skipped (ok) when not root, in a sanitizer build, or
# without skopeo and umoci. Ports 29145, backend 29102.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
serialise

need_root "chroot needs root"
need_static
for t in skopeo umoci; do
    command -v "$t" >/dev/null || { ok "# SKIP $t not installed (make test installs it)"; finish; }
done
IMAGE=$BUILD/static-image/image
BIN=$BUILD/static-image/static/switchyard
c() { "$TOOLS/client" "$@" >"$WORK/client.out"; }
status() { grep "^$1:" "/proc/$PROXY_PID/status" | tr -s '\t ' ' ' | sed 's/ *$//'; }

# Reproducible: the same binary, with another time and mode, built into an image from
# another directory under another umask.
cp "$BIN" "$WORK/switchyard"
touch -d @86400 "$WORK/switchyard"
chmod 700 "$WORK/switchyard"
(cd "$WORK" && umask 077 && sh "$OLDPWD/tools/switchyard-image" switchyard again) >/dev/null
check "the same binary gives the same image, byte for byte" diff -r "$IMAGE" "$WORK/again"

skopeo inspect "oci:$IMAGE:latest" >"$WORK/inspect.json"
skopeo inspect --config "oci:$IMAGE:latest" >"$WORK/config.json"
digest=$("$BIN" --version | sed 's/.* config //')
check "skopeo: one layer" \
    test "$(sed -n '/"Layers": \[/,/\]/p' "$WORK/inspect.json" | grep -c '"sha256:')" = 1
check "skopeo: linux/amd64" grep -q '"Architecture": "amd64"' "$WORK/inspect.json"
check "skopeo: the label is the configuration digest" \
    grep -q "\"org.switchyard.config-digest\": \"$digest\"" "$WORK/inspect.json"
check "skopeo: the entrypoint is the binary" \
    sh -c "tr -d ' \n' <'$WORK/config.json' | grep -q '\"Entrypoint\":\[\"/switchyard\"\]'"

cp -r "$IMAGE" "$WORK/image"
umoci unpack --image "$WORK/image:latest" "$WORK/bundle" >"$WORK/umoci.log" 2>&1 ||
    { cat "$WORK/umoci.log"; not_ok "umoci unpack"; finish; }
JAIL=$WORK/bundle/rootfs
check "the layer holds the binary, passwd and group, nothing else" \
    test "$(cd "$JAIL" && find . -mindepth 1 | sort | tr '\n' ' ')" = \
    "./etc ./etc/group ./etc/passwd ./switchyard "
check "the binary is the one built" cmp "$BIN" "$JAIL/switchyard"
check "passwd: the user's entry" \
    test "$(cat "$JAIL/etc/passwd")" = "nobody:x:$(id -u nobody):$(id -g nobody):nobody:/:/nonexistent"
check "group: the group's entry" \
    test "$(cat "$JAIL/etc/group")" = "nogroup:x:$(getent group nogroup | cut -d: -f3):"

# The image's own passwd and group say who it runs as: ids other than the host's prove it.
sed -i 's/^nobody:x:[0-9]*:[0-9]*:/nobody:x:4242:4343:/' "$JAIL/etc/passwd"
sed -i 's/^nogroup:x:[0-9]*:/nogroup:x:4444:/' "$JAIL/etc/group"
byte_backend echo 29102 -m echo
start chroot "$JAIL" /switchyard 2>"$PROXY_LOG"
PROXY_PID=$LAST_PID
wait_for 10 grep -q ' started' "$PROXY_LOG" || { not_ok "the rootfs's binary starts"; finish; }
check "uid from the image's passwd ($(status Uid))" test "$(status Uid)" = "Uid: 4242 4242 4242 4242"
check "gid from the image's group ($(status Gid))" test "$(status Gid)" = "Gid: 4444 4444 4444 4444"
check "root directory is the rootfs" test "$(readlink "/proc/$PROXY_PID/root")" = "$JAIL"
check "it routes by SNI" c -a ::1 -p 29145 -n echo.test -u 10000
stop_proxy
check "SIGTERM: exit 0 (got $PROXY_RC)" test "$PROXY_RC" = 0
finish
