#!/usr/bin/env bash
# Boots two test guests of one arch under QEMU (TCG) and checks what scripts/build-test-guest.md
# promises: READY marker, static IP on a shared mcast L2 + ping, user-mode uplink by DHCP, seed ISO
# (virtio-blk on A, virtio-scsi CD on B), SSH with the seed key (A) and pvmlab.sshkey (B), call home,
# serial shell, and ACPI/GPIO power-off through QMP system_powerdown.
#
#   scripts/test-guest/selftest.sh x86_64|aarch64
#
# Needs: qemu-system-x86 or qemu-system-arm, xorriso, socat, openssh-client, busybox (httpd), bc.
# All traffic stays on loopback and on the networks QEMU makes. Ends with "N passed, N failed".
set -euo pipefail

ARCH=${1:-}
case "$ARCH" in
x86_64) QEMU=(qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 256) CONSOLE=ttyS0 ;;
aarch64) QEMU=(qemu-system-aarch64 -M virt -accel tcg -cpu max,pauth-impdef=on -m 256) CONSOLE=ttyAMA0 ;;
*)
	echo "usage: $0 x86_64|aarch64" >&2
	exit 2
	;;
esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST=$("$HERE/../build-test-guest.sh" "$ARCH" | tail -n 1)
T=$(mktemp -d /tmp/pvmlab-selftest.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

PASS=0 FAIL=0
check() { # check NAME COMMAND...
	if "${@:2}"; then
		echo "ok   $1"
		PASS=$((PASS + 1))
	else
		echo "FAIL $1"
		FAIL=$((FAIL + 1))
	fi
}
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_log() { # wait_log FILE REGEX SECONDS
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt "$end" ]; do
		grep -aqE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
now() { date +%s.%N; }

# keys, seeds, an HTTP server on loopback for the call home
ssh-keygen -q -t ed25519 -N '' -C selftest-a -f "$T/key-a"
ssh-keygen -q -t ed25519 -N '' -C selftest-b -f "$T/key-b"
mkdir -p "$T/seed-a" "$T/seed-b" "$T/www"
printf 'instance-id: st-a\nlocal-hostname: st-a\n' >"$T/seed-a/meta-data"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$(cat "$T/key-a.pub")" >"$T/seed-a/user-data"
printf 'instance-id: st-b\nlocal-hostname: "st-b"\n' >"$T/seed-b/meta-data"
printf '#cloud-config\n{}\n' >"$T/seed-b/user-data"
xorriso -as mkisofs -V cidata -J -R -o "$T/seed-a.iso" "$T/seed-a" 2>/dev/null
xorriso -as mkisofs -V cidata -J -R -o "$T/seed-b.iso" "$T/seed-b" 2>/dev/null
echo "hello" >"$T/www/hello"
HTTP=$(free_port)
busybox httpd -f -p "127.0.0.1:$HTTP" -h "$T/www" &
PIDS+=($!)

MCAST=$(free_port) SSH_A=$(free_port) SSH_B=$(free_port)
L2="socket,mcast=230.0.0.1:$MCAST,localaddr=127.0.0.1"
start() { # start NAME APPEND QEMU-ARGS...
	local name=$1 append=$2
	shift 2
	"${QEMU[@]}" -display none -nodefaults -no-user-config \
		-chardev "socket,id=s0,path=$T/$name.sock,server=on,wait=off,logfile=$T/$name.log" -serial chardev:s0 \
		-qmp "unix:$T/$name.qmp,server=on,wait=off" \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" -append "console=$CONSOLE $append" "$@" &
	PIDS+=($!)
	eval "PID_$name=$!"
}
T0=$(now)
start a "pvmlab.hostname=wrong pvmlab.mac=02:00:00:5e:00:01 pvmlab.ip=192.168.150.1/24 pvmlab.uplink=dhcp pvmlab.ping=192.168.150.2 pvmlab.callhome=http://10.0.2.2:$HTTP/hello" \
	-netdev "user,id=u0,hostfwd=tcp:127.0.0.1:$SSH_A-:22" -device virtio-net-pci,netdev=u0 \
	-netdev "$L2,id=n0" -device virtio-net-pci,netdev=n0,mac=02:00:00:5e:00:01 \
	-drive "file=$T/seed-a.iso,if=virtio,format=raw,readonly=on"
start b "pvmlab.hostname=st-x pvmlab.mac=02:00:00:5e:00:02 pvmlab.ip=192.168.150.2/24,192.168.150.1 pvmlab.uplink=dhcp pvmlab.ping=192.168.150.1 pvmlab.sshkey=$(base64 -w0 "$T/key-b.pub")" \
	-netdev "$L2,id=n0" -device virtio-net-pci,netdev=n0,mac=02:00:00:5e:00:02 \
	-netdev "user,id=u0,hostfwd=tcp:127.0.0.1:$SSH_B-:22" -device virtio-net-pci,netdev=u0 \
	-device virtio-scsi-pci,id=scsi0 -drive "file=$T/seed-b.iso,if=none,id=cd0,format=raw,readonly=on,media=cdrom" \
	-device scsi-cd,drive=cd0,bus=scsi0.0

for g in a b; do
	if wait_log "$T/$g.log" '^PVMLAB-GUEST-READY ' 300; then
		echo "guest $g READY $(echo "$(now) - $T0" | bc) s after launch ($(grep -ao 'ready after [0-9.]* s of uptime' "$T/$g.log"))"
	fi
done
line() { tr -d '\r' <"$T/$1.log" | grep -aqxF -- "$2"; } # exact line (serial lines end in \r)
not() { ! "$@"; }
check "a READY line" line a "PVMLAB-GUEST-READY hostname=st-a arch=$ARCH"
check "b READY line" line b "PVMLAB-GUEST-READY hostname=st-b arch=$ARCH"
check "a one READY" [ "$(grep -ac '^PVMLAB-GUEST-READY' "$T/a.log")" = 1 ]
check "a static ip" line a "PVMLAB-NET ip=192.168.150.1"
check "a uplink dhcp" line a "PVMLAB-NET ip=10.0.2.15"
check "b static ip" line b "PVMLAB-NET ip=192.168.150.2"
check "a ping b" line a "PVMLAB-PING 192.168.150.2 ok"
check "b ping a" line b "PVMLAB-PING 192.168.150.1 ok"
check "a ssh ready" line a "PVMLAB-SSH ready"
check "a callhome" line a "PVMLAB-CALLHOME ok 200"
SSHOPTS=(-o BatchMode=yes -o StrictHostKeyChecking=accept-new -o "UserKnownHostsFile=$T/known_hosts" -o ConnectTimeout=20)
check "a ssh with seed key" [ "$(ssh "${SSHOPTS[@]}" -i "$T/key-a" -p "$SSH_A" root@127.0.0.1 hostname)" = st-a ]
check "b ssh with cmdline key" [ "$(ssh "${SSHOPTS[@]}" -i "$T/key-b" -p "$SSH_B" root@127.0.0.1 hostname)" = st-b ]
check "b refuses other key" not ssh "${SSHOPTS[@]}" -i "$T/key-a" -p "$SSH_B" root@127.0.0.1 true 2>/dev/null
check "b default route" [ "$(ssh "${SSHOPTS[@]}" -i "$T/key-b" -p "$SSH_B" root@127.0.0.1 'ip route show default' | head -n 1 | cut -d' ' -f1-3)" = "default via 192.168.150.1" ]
(
	printf 'echo hi-$((1+1))\n'
	sleep 10
) | socat -t 10 - "UNIX-CONNECT:$T/a.sock" >/dev/null &
check "a serial shell" wait_log "$T/a.log" $'^hi-2\r?$' 30
for g in a b; do
	printf '{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n' | socat -t 2 - "UNIX-CONNECT:$T/$g.qmp" >/dev/null
done
exited() { # exited PID SECONDS
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.1
	done
}
check "a powerdown exits qemu" exited "$PID_a" 60
check "b powerdown exits qemu" exited "$PID_b" 60
check "a POWEROFF marker" grep -aq '^PVMLAB-POWEROFF' "$T/a.log"
check "b POWEROFF marker" grep -aq '^PVMLAB-POWEROFF' "$T/b.log"
if [ "$FAIL" -gt 0 ]; then
	for g in a b; do
		echo "---- serial log of $g (markers and pvmlab lines)"
		grep -aE '^(PVMLAB|pvmlab)' "$T/$g.log" || true
	done
fi
echo "$ARCH: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
