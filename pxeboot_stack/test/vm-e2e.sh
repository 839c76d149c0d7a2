#!/usr/bin/env bash
# End-to-end check of the pxeboot stack in a real provisioner VM (not part of the image hash).
#
#   pxeboot_stack/test/vm-e2e.sh IMAGE_DIR
#
# IMAGE_DIR is the directory printed by scripts/build-provisioner-image.sh. Boots the provisioner
# (uplink: user-mode NAT with an SSH forward; private NIC: a QEMU mcast socket segment), builds
# pvmlab/pxeboot offline from pvmlab/pxeboot-base:bookworm, runs it with the panel's flags, checks
# /health, reservations + SIGHUP, TFTP, then PXE-boots an x86_64 target on the segment and waits for
# its iPXE script to call home through the NAT-free private net, and checks NAT with a host web server
# reached through the provisioner. Prints one "figure: …" line per measurement.
# Needs: qemu-system-x86 ipxe-qemu xorriso openssh-client socat python3 curl (+ qemu-system-arm
# qemu-efi-aarch64 for the arm64 UEFI target; ARM64=0 skips it).
set -euo pipefail
IMG=${1:?usage: vm-e2e.sh IMAGE_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$(mktemp -d /tmp/pvmlab-e2e.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
say() { printf '[e2e %6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*" >&2; }
fig() { printf 'figure: %s\n' "$*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
T0=$(date +%s.%N)

SSH_PORT=$(freeport); WEB_PORT=$(freeport); MCAST_PORT=$(( 20000 + RANDOM % 20000 ))
PROV_MAC=52:54:00:aa:00:01; ARM_MAC=52:54:00:bb:00:20; PRIV_MAC=52:54:00:aa:00:02; TGT_MAC=52:54:00:bb:00:10
ssh-keygen -q -t ed25519 -N '' -C pvmlab-e2e -f "$W/key"

# a web server on the host's loopback = "the outside" the targets reach through the provisioner's NAT
mkdir -p "$W/www"; echo "hello-through-nat" >"$W/www/nat.txt"
python3 -m http.server "$WEB_PORT" --bind 127.0.0.1 --directory "$W/www" >"$W/www.log" 2>&1 & PIDS+=($!)

mkdir -p "$W/seed"
printf 'instance-id: e2e-%s\nlocal-hostname: provisioner\n' "$RANDOM" >"$W/seed/meta-data"
cat >"$W/seed/network-config" <<EOF
version: 2
ethernets:
  uplink:
    match: { macaddress: "$PROV_MAC" }
    set-name: eth0
    dhcp4: true
  lab:
    match: { macaddress: "$PRIV_MAC" }
    set-name: eth1
    dhcp4: false
    accept-ra: false
    addresses: [ 192.168.100.1/24, "fd42:7076:6d6c::1/64" ]
EOF
cat >"$W/seed/user-data" <<EOF
#cloud-config
locale: C.UTF-8
users:
  - name: pvmlab
    shell: /bin/bash
    lock_passwd: true
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    groups: [ docker ]
    ssh_authorized_keys: [ "$(cat "$W/key.pub")" ]
write_files:
  - path: /etc/pvmlab/nat.env
    content: |
      PRIVATE_CIDR=192.168.100.0/24
      PRIVATE_IF=eth1
      UPLINK_IF=eth0
EOF
xorriso -as mkisofs -quiet -V cidata -J -r -o "$W/seed.iso" "$W/seed" 2>/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$IMG/disk.qcow2" "$W/prov.qcow2"
APPEND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["append"])' "$IMG/manifest.json")

say "booting provisioner (ssh 127.0.0.1:$SSH_PORT, mcast 230.0.0.1:$MCAST_PORT)"
TB=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -M q35 -cpu max -smp 2 -m 2048 -display none \
  -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" -append "$APPEND" \
  -drive "file=$W/prov.qcow2,format=qcow2,if=virtio" -drive "file=$W/seed.iso,format=raw,if=virtio,readonly=on" \
  -netdev "user,id=up,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22,guestfwd=tcp:10.0.2.100:80-cmd:socat STDIO TCP:127.0.0.1:$WEB_PORT" \
  -device "virtio-net-pci,netdev=up,mac=$PROV_MAC" \
  -netdev "socket,id=lab,mcast=230.0.0.1:$MCAST_PORT,localaddr=127.0.0.1" -device "virtio-net-pci,netdev=lab,mac=$PRIV_MAC" \
  -serial "file:$W/prov-serial.log" -monitor none & PIDS+=($!)
SSH=(ssh -q -i "$W/key" -p "$SSH_PORT" -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o StrictHostKeyChecking=accept-new
     -o UserKnownHostsFile="$W/known_hosts" pvmlab@127.0.0.1)
up=0
for _ in $(seq 1 300); do "${SSH[@]}" true 2>/dev/null && { up=1; break; }; sleep 2; done
[ $up = 1 ] || { tail -n 30 "$W/prov-serial.log" >&2; exit 1; }
fig "provisioner boot->ssh $(since "$TB") s"; say "ssh up"
"${SSH[@]}" 'until systemctl is-active -q docker; do sleep 1; done'
fig "provisioner boot->docker active $(since "$TB") s"
"${SSH[@]}" 'until docker image inspect pvmlab/pxeboot-base:bookworm >/dev/null 2>&1; do sleep 1; done'
fig "provisioner boot->base image present $(since "$TB") s"
"${SSH[@]}" 'cloud-init status --wait >/dev/null 2>&1; cloud-init status; systemctl is-system-running || true'
fig "provisioner boot->cloud-init done $(since "$TB") s"

say "docker build (offline: --network none)"
tar -C "$HERE" --exclude=./test -cf - . | "${SSH[@]}" 'rm -rf /tmp/pxeboot_stack && mkdir /tmp/pxeboot_stack && tar -C /tmp/pxeboot_stack -xf -'
TBUILD=$(date +%s.%N)
"${SSH[@]}" 'DOCKER_BUILDKIT=0 docker build -q --network none --build-arg BASE_IMAGE=pvmlab/pxeboot-base:bookworm -t pvmlab/pxeboot:latest /tmp/pxeboot_stack' >&2
fig "docker build (offline, cold cache) $(since "$TBUILD") s"
"${SSH[@]}" 'echo "# touched" >>/tmp/pxeboot_stack/default.ipxe'
TBUILD=$(date +%s.%N)
"${SSH[@]}" 'DOCKER_BUILDKIT=0 docker build -q --network none --build-arg BASE_IMAGE=pvmlab/pxeboot-base:bookworm -t pvmlab/pxeboot:latest /tmp/pxeboot_stack' >&2
fig "docker build (offline, one config file changed) $(since "$TBUILD") s"
TBUILD=$(date +%s.%N)
"${SSH[@]}" 'DOCKER_BUILDKIT=1 docker build -q --network none --build-arg BASE_IMAGE=pvmlab/pxeboot-base:bookworm -t pvmlab/pxeboot:buildkit /tmp/pxeboot_stack' >&2 \
  && fig "docker build BuildKit (offline, cold cache) $(since "$TBUILD") s" || say "BuildKit build failed"
"${SSH[@]}" 'echo "# touched" >>/tmp/pxeboot_stack/default.ipxe'
TBUILD=$(date +%s.%N)
"${SSH[@]}" 'DOCKER_BUILDKIT=1 docker build -q --network none --build-arg BASE_IMAGE=pvmlab/pxeboot-base:bookworm -t pvmlab/pxeboot:buildkit /tmp/pxeboot_stack' >&2 \
  && fig "docker build BuildKit (offline, one config file changed) $(since "$TBUILD") s" || say "BuildKit build failed"

say "docker run"
TRUN=$(date +%s.%N)
"${SSH[@]}" 'sudo install -d -m 0755 /var/lib/pvmlab/pxe && docker run -d --name pxeboot --network host \
  --cap-add NET_ADMIN --cap-add NET_BIND_SERVICE --cap-add NET_RAW --restart unless-stopped \
  -v /var/lib/pvmlab/pxe:/pxe -e PXE_INTERFACE=eth1 -e PXE_SUBNET=192.168.100.0/24 -e PXE_SERVER_IP=192.168.100.1 \
  -e PXE_RANGE_START=192.168.100.100 -e PXE_RANGE_END=192.168.100.200 -e PXE_ULA=fd42:7076:6d6c::/64 \
  pvmlab/pxeboot:latest' >&2
"${SSH[@]}" 'for i in $(seq 1 120); do curl -fsS --max-time 2 http://127.0.0.1/health 2>/dev/null && exit 0; sleep 0.5; done; docker logs pxeboot; exit 1'
fig "container start->/health 200 $(since "$TRUN") s"
"${SSH[@]}" 'for i in $(seq 1 300); do [ "$(docker inspect -f "{{.State.Health.Status}}" pxeboot)" = healthy ] && exit 0; sleep 1; done; docker inspect -f "{{json .State.Health}}" pxeboot; exit 1'
fig "container start->docker healthy $(since "$TRUN") s"

say "health follows dnsmasq"
"${SSH[@]}" 'docker exec pxeboot supervisorctl -c /usr/local/share/pvmlab/supervisord.conf stop dnsmasq >/dev/null; sleep 1
  code=$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1/health); echo "health with dnsmasq stopped: $code"; [ "$code" = 503 ]
  docker exec pxeboot supervisorctl -c /usr/local/share/pvmlab/supervisord.conf start dnsmasq >/dev/null
  for i in $(seq 1 40); do curl -fsS http://127.0.0.1/health >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1' >&2

say "reservation + SIGHUP, per-MAC iPXE script"
"${SSH[@]}" "set -e
  echo '$TGT_MAC,192.168.100.10,target1' | sudo tee /var/lib/pvmlab/pxe/dnsmasq/reservations >/dev/null
  docker kill -s HUP pxeboot >/dev/null
  sudo tee /var/lib/pvmlab/pxe/http/ipxe/$TGT_MAC >/dev/null <<'EOF'
#!ipxe
echo e2e: target script for \${mac} at \${ip}
imgfetch http://10.0.2.100/nat.txt && set natok yes || set natok no
imgfetch http://192.168.100.1/callhome?host=target1&ip=\${ip}&mac=\${mac}&status=nat-\${natok} ||
shell
EOF
  curl -fsS http://127.0.0.1/boot.ipxe >/dev/null
  curl -fsS -o /dev/null tftp://192.168.100.1/undionly.kpxe && echo 'tftp undionly.kpxe ok'
  curl -fsS -o /dev/null tftp://192.168.100.1/grubnetaa64.efi && echo 'tftp grubnetaa64.efi ok'
  curl -fsS 'http://127.0.0.1/callhome?host=selftest&ip=127.0.0.1' >/dev/null && echo 'callhome ok'" >&2

say "PXE-booting target $TGT_MAC"
TT=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -M q35 -smp 1 -m 256 -display none -boot n -no-reboot \
  -netdev "socket,id=lab,mcast=230.0.0.1:$MCAST_PORT,localaddr=127.0.0.1" -device "virtio-net-pci,netdev=lab,mac=$TGT_MAC" \
  -serial "file:$W/target-serial.log" -vga none -monitor none & TPID=$!; PIDS+=($TPID)
ok=0
for _ in $(seq 1 240); do
  if "${SSH[@]}" "grep -q '\"host\":\"target1\"' /var/lib/pvmlab/pxe/http-callhome.log" 2>/dev/null; then ok=1; break; fi
  sleep 1
done
fig "target launch->call home $(since "$TT") s"
kill "$TPID" 2>/dev/null || true
"${SSH[@]}" 'echo "--- callhome log"; cat /var/lib/pvmlab/pxe/http-callhome.log; echo "--- leases"; cat /var/lib/pvmlab/pxe/dnsmasq/leases;
  echo "--- dnsmasq/nginx log (tail)"; docker logs pxeboot 2>&1 | tail -n 40; echo "--- nat"; sudo iptables -S DOCKER-USER; sudo iptables -t nat -S POSTROUTING' >&2
[ $ok = 1 ] || { echo "target never called home" >&2; exit 1; }
"${SSH[@]}" "grep -q '192.168.100.10 target1' /var/lib/pvmlab/pxe/dnsmasq/leases" || { echo "reservation not used" >&2; exit 1; }
"${SSH[@]}" "grep '\"host\":\"target1\"' /var/lib/pvmlab/pxe/http-callhome.log | grep -q 'nat-yes'" || { echo "NAT check failed" >&2; exit 1; }
if [ "${ARM64:-1}" = 1 ] && command -v qemu-system-aarch64 >/dev/null && [ -f /usr/share/AAVMF/AAVMF_CODE.fd ]; then
  say "PXE-booting arm64 UEFI target $ARM_MAC (firmware PXE -> grubnetaa64.efi -> per-MAC grub.cfg over TFTP)"
  "${SSH[@]}" "set -e
    echo '$ARM_MAC,192.168.100.20,target2' | sudo tee -a /var/lib/pvmlab/pxe/dnsmasq/reservations >/dev/null
    n=\$(docker logs pxeboot 2>&1 | grep -c 'read /pxe/dnsmasq/reservations')
    docker kill -s HUP pxeboot >/dev/null
    for i in \$(seq 1 20); do [ \$(docker logs pxeboot 2>&1 | grep -c 'read /pxe/dnsmasq/reservations') -gt \$n ] && break; sleep 0.5; done
    docker logs pxeboot 2>&1 | grep -E 'SIGHUP|read /pxe/dnsmasq/reservations' | tail -n 2
    echo arm64-artifact | sudo tee /var/lib/pvmlab/pxe/http/artifacts/arm64.txt >/dev/null
    printf 'echo pvmlab-e2e: per-MAC config\\ncat /artifacts/arm64.txt\\nsleep 1\\nhalt\\n' |
      sudo tee /var/lib/pvmlab/pxe/tftp/grub/grub.cfg-01-${ARM_MAC//:/-} >/dev/null"
  cp /usr/share/AAVMF/AAVMF_VARS.fd "$W/vars.fd"
  TA=$(date +%s.%N)
  qemu-system-aarch64 -M virt -accel tcg -cpu cortex-a57 -smp 1 -m 512 -display none -no-reboot \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd -drive "if=pflash,format=raw,file=$W/vars.fd" \
    -netdev "socket,id=lab,mcast=230.0.0.1:$MCAST_PORT,localaddr=127.0.0.1" -device "virtio-net-pci,netdev=lab,mac=$ARM_MAC,romfile=" \
    -serial "file:$W/arm64-serial.log" -monitor none & APID=$!; PIDS+=($APID)
  ok=0
  for _ in $(seq 1 300); do
    if "${SSH[@]}" "docker logs pxeboot 2>&1 | grep -q 'sent /pxe/tftp/artifacts/arm64.txt'" 2>/dev/null; then ok=1; break; fi
    sleep 2
  done
  fig "arm64 target launch->per-MAC GRUB config ran $(since "$TA") s"
  kill "$APID" 2>/dev/null || true
  "${SSH[@]}" "docker logs pxeboot 2>&1 | grep -E 'TFTP|tftp|sent ' | tail -n 8" >&2 || true
  tr -d '\r' <"$W/arm64-serial.log" | grep -a -E 'pvmlab|arm64-artifact|error' | tail -n 8 >&2 || true
  [ $ok = 1 ] || { echo "arm64 target did not run its per-MAC GRUB config" >&2; exit 1; }
  "${SSH[@]}" "grep -q '192.168.100.20 target2' /var/lib/pvmlab/pxe/dnsmasq/leases" || { echo "arm64 reservation not used" >&2; exit 1; }
fi
say "all checks passed"
echo "e2e: 1 passed, 0 failed"
