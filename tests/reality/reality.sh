#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The reality suite: put this host into each state of states.tsv, run the doctor, start real guests
# through libvirt, put the host back, and check that the doctor's verdict predicted what happened.
#
#   reality.sh [--only NAME]... [--restore] [--kill-test] [--list]
#
# It changes the host (device nodes, daemons, the default network, packages, files) and puts every
# change back: the host as found is written to $VD_REALITY_DIR/baseline before the first change,
# and restore() brings the host back to it -- at start (a run killed with SIGKILL left it behind),
# after each state, and on EXIT/INT/TERM. Each state holds the shared libvirt lock for its whole
# duration, and restores before releasing it, so other suites' tests interleave between states.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/../.." && pwd)
VD=${VD_BIN:-$SRCDIR/build/virt-doctor}
STATES=$HERE/states.tsv
STATE_DIR=${VD_REALITY_DIR:-/var/lib/virt-doctor-reality}	# survives a reboot: apt changes do too
BASELINE=$STATE_DIR/baseline
LOCK=/run/lock/virt-doctor-libvirt.lock
VIRSH=(virsh -c qemu:///system)
IMAGES=/var/lib/libvirt/images
PREFIX=vdreality	# every domain and disk this suite makes starts with it
QEMU_BIN=/usr/bin/qemu-system-x86_64
QEMU_HIDDEN=/usr/bin/.qemu-system-x86_64.vd-reality	# same file system: the move is a rename
CAPS_CACHE=/var/cache/libvirt/qemu/capabilities
NET_STATUS=/run/libvirt/network/default.xml	# exists while the default network is active
NET_AUTOSTART_LINK=/etc/libvirt/qemu/networks/autostart/default.xml
LIBVIRTD_SOCK=/run/libvirt/libvirt-sock
VIRTLOGD_SOCK=/run/libvirt/virtlogd-sock
# What a fix --apply may write (the merged fixes may `systemctl enable` a unit: its links under
# etc/systemd/system, or update-rc.d's); snapshotted before it runs and put back after.
FIX_PATHS=(etc/udev/rules.d etc/modules-load.d etc/modprobe.d etc/sysctl.d etc/libvirt etc/group
	   etc/gshadow etc/passwd etc/shadow etc/systemd/system etc/init.d etc/rc2.d etc/rc3.d etc/rc4.d etc/rc5.d)
GUEST_WAIT=${VD_REALITY_GUEST_WAIT:-3}	# seconds a guest must stay running

log() { printf '[reality %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- the lock: fd 9; every long-lived process we start gets 9>&- so it cannot keep it ----------
lock_wait() {	# a minute at a time, saying who holds it; VD_REALITY_LOCK_MINUTES at most
	local waited=0 holders
	while ! flock -w 60 9; do
		waited=$((waited + 1))
		holders=$(lslocks -n -o COMMAND,PID,MODE,PATH 2>/dev/null |
			awk -v l="$LOCK" '$3 == "WRITE" && $4 == l {printf "%s[%s] ", $1, $2}')
		log "waiting $waited min for $LOCK, held by: $holders"
		[ "$waited" -lt "${VD_REALITY_LOCK_MINUTES:-30}" ] || { log "giving up on the lock"; return 1; }
	done
}
lock() {
	[ "${VD_REALITY_LOCK_HELD:-0}" = 1 ] && return 0	# the kill test's parent holds it
	exec 9>>"$LOCK" || die "cannot open $LOCK"
	# In the background so that INT/TERM are not deferred until the lock comes; the lock is the
	# open file's, so it stays ours when the flock process exits.
	lock_wait & LOCK_WAITER=$!
	wait "$LOCK_WAITER" || die "cannot lock $LOCK"
	LOCK_WAITER= LOCKED=1
}
unlock() {
	[ "${VD_REALITY_LOCK_HELD:-0}" = 1 ] && return 0
	flock -u 9; exec 9>&-; LOCKED=0
}

# ---- probes of host state -------------------------------------------------------------------
sock_accepts() {	# a unix socket accepts a connection (a stale socket file does not)
	/usr/bin/python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2)
try: s.connect(sys.argv[1])
except OSError: sys.exit(1)' "$1" 2>/dev/null
}
libvirtd_up() { sock_accepts "$LIBVIRTD_SOCK"; }
virtlogd_up() { sock_accepts "$VIRTLOGD_SOCK"; }
node_state() { [ -e "$1" ] && stat -c '%F %t:%T %a %u %g' "$1" || echo absent; }
pkg_version() { dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1=="installed"{print $2}'; }
pkg_auto() { apt-mark showauto "$1" 2>/dev/null | grep -qx "$1" && echo 1 || echo 0; }
net_active() { [ -e "$NET_STATUS" ] && echo 1 || echo 0; }
our_domains() { libvirtd_up && "${VIRSH[@]}" list --all --name 2>/dev/null | grep "^$PREFIX" || true; }

# One line per thing the suite may change: the baseline is this, and after a restore the host
# must print the same again.
fingerprint() {
	echo "kvm $(node_state /dev/kvm)"
	echo "tun $(node_state /dev/net/tun)"
	echo "qemu $(stat -c '%i %s %a' "$QEMU_BIN" 2>/dev/null || echo absent)"
	echo "dnsmasq-base $(pkg_version dnsmasq-base) auto=$(pkg_auto dnsmasq-base)"
	echo "libvirtd $(libvirtd_up && echo up || echo down)"
	echo "virtlogd $(virtlogd_up && echo up || echo down)"
	echo "net-active $(net_active)"
	echo "net-autostart $([ -e "$NET_AUTOSTART_LINK" ] && echo 1 || echo 0)"
	echo "guests $(our_domains | tr '\n' ' ')"
	echo "disks $(ls "$IMAGES" 2>/dev/null | grep "^$PREFIX" | tr '\n' ' ')"
}

# ---- daemons --------------------------------------------------------------------------------
wait_for() {	# wait_for TENTHS CMD...: until CMD succeeds
	local n=$1; shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
not() { ! "$@"; }
daemon_pid() { local p; p=$(cat "/run/$1.pid" 2>/dev/null) && [ -d "/proc/$p" ] && echo "$p"; }
start_libvirtd() {
	local err i
	libvirtd_up && return 0
	# A daemon that is still exiting holds its pid file for a moment: "Unable to obtain pidfile".
	for i in 1 2 3 4 5 6 7 8 9 10; do
		err=$(libvirtd -d 9>&- </dev/null 2>&1 >/dev/null) && break
		sleep 1
	done
	[ -z "$err" ] || { log "libvirtd -d: $err"; return 1; }
	wait_for 200 libvirtd_up || { log "libvirtd started but its socket does not accept"; return 1; }
}
# No reaping init here: a daemon that exited may stay a zombie, which is gone for our purposes.
pid_gone() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
stop_daemon() {	# stop_daemon NAME SOCKCHECK
	local pid; pid=$(daemon_pid "$1") || pid=$(pgrep -xo "$1") || return 0
	kill -TERM "$pid" 2>/dev/null
	# Gone, not just deaf: a libvirtd still shutting down holds its pid file, and the next
	# `libvirtd -d` fails with "Unable to obtain pidfile".
	wait_for 150 pid_gone "$pid" && return 0
	kill -KILL "$pid" 2>/dev/null; wait_for 50 pid_gone "$pid" && wait_for 50 not "$2"
}
stop_libvirtd() { stop_daemon libvirtd libvirtd_up; }
start_virtlogd() { virtlogd_up || { virtlogd -d 9>&- </dev/null >/dev/null 2>&1; wait_for 100 virtlogd_up; }; }
stop_virtlogd() { stop_daemon virtlogd virtlogd_up; }
# libvirtd answers calls that need QEMU's capabilities only once its probe is done.
settle_libvirtd() { timeout 120 "${VIRSH[@]}" version >/dev/null 2>&1; }

# ---- baseline and restore -------------------------------------------------------------------
save_baseline() {
	local tmp=$BASELINE.tmp
	mkdir -p "$STATE_DIR"
	{
		echo "KVM_NODE='$(node_state /dev/kvm)'"
		echo "TUN_NODE='$(node_state /dev/net/tun)'"
		echo "QEMU_PRESENT=$([ -e "$QEMU_BIN" ] && echo 1 || echo 0)"
		echo "DNSMASQ_VERSION='$(pkg_version dnsmasq-base)'"
		echo "DNSMASQ_AUTO=$(pkg_auto dnsmasq-base)"
		echo "LIBVIRTD_UP=$(libvirtd_up && echo 1 || echo 0)"
		echo "VIRTLOGD_UP=$(virtlogd_up && echo 1 || echo 0)"
		echo "NET_ACTIVE=$(net_active)"
		echo "NET_AUTO=$([ -e "$NET_AUTOSTART_LINK" ] && echo 1 || echo 0)"
	} >"$tmp" && sync "$tmp" && mv "$tmp" "$BASELINE" && fingerprint >"$STATE_DIR/fingerprint"
}

restore_node() {	# restore_node PATH 'TYPE MAJ:MIN MODE UID GID' as node_state printed it
	local path=$1 want=$2 maj min mode uid gid
	[ "$want" = absent ] && return 0	# never create what was not there
	set -- ${want#character special file }
	IFS=: read -r maj min <<<"$1"; mode=$2; uid=$3; gid=$4
	if [ ! -e "$path" ]; then
		mkdir -p "$(dirname "$path")"
		mknod "$path" c "$((16#$maj))" "$((16#$min))" || return 1
	fi
	chown "$uid:$gid" "$path" && chmod "$mode" "$path"
}

restore_files() {	# the snapshot taken before fix --apply: new files go, old ones come back
	[ -f "$STATE_DIR/files.tar" ] || return 0
	local p
	(cd / && find "${FIX_PATHS[@]}" 2>/dev/null | sort) >"$STATE_DIR/files.now"
	comm -13 "$STATE_DIR/files.list" "$STATE_DIR/files.now" | sort -r | while read -r p; do
		log "restore: removing /$p (written by the fix)"
		rm -rf "/${p:?}"
	done
	tar -C / -xpf "$STATE_DIR/files.tar" || return 1
	rm -f "$STATE_DIR/files.tar" "$STATE_DIR/files.list" "$STATE_DIR/files.now"
}

restore_package() {
	local now; now=$(pkg_version dnsmasq-base)
	[ -n "$DNSMASQ_VERSION" ] || return 0
	if [ "$now" != "$DNSMASQ_VERSION" ]; then
		log "restore: installing dnsmasq-base $DNSMASQ_VERSION"
		if ls "$STATE_DIR"/dnsmasq-base_*.deb >/dev/null 2>&1; then
			dpkg -i "$STATE_DIR"/dnsmasq-base_*.deb 9>&- >/dev/null || return 1
		else
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				"dnsmasq-base=$DNSMASQ_VERSION" 9>&- >/dev/null || return 1
		fi
	fi
	[ "$(pkg_auto dnsmasq-base)" = "$DNSMASQ_AUTO" ] ||
		apt-mark "$([ "$DNSMASQ_AUTO" = 1 ] && echo auto || echo manual)" dnsmasq-base >/dev/null
	rm -f "$STATE_DIR"/dnsmasq-base_*.deb
}

# Puts the host back to the baseline; idempotent, so a second run after a kill mid-restore is fine.
restore() {
	[ -f "$BASELINE" ] || return 0
	local KVM_NODE TUN_NODE QEMU_PRESENT DNSMASQ_VERSION DNSMASQ_AUTO LIBVIRTD_UP VIRTLOGD_UP
	local NET_ACTIVE NET_AUTO d ok=0
	# shellcheck disable=SC1090
	. "$BASELINE"
	if [ "$QEMU_PRESENT" = 1 ] && [ ! -e "$QEMU_BIN" ] && [ -e "$QEMU_HIDDEN" ]; then
		log "restore: moving $QEMU_HIDDEN back"; mv "$QEMU_HIDDEN" "$QEMU_BIN" || ok=1
		# A libvirtd started without it keeps "No emulator found" (virsh version fails) until
		# it restarts; it is started again below if it was running.
		stop_libvirtd || ok=1
	fi
	restore_node /dev/kvm "$KVM_NODE" || ok=1
	restore_node /dev/net/tun "$TUN_NODE" || ok=1
	restore_package || ok=1
	rm -f "$IMAGES/$PREFIX"-*.qcow2
	# The network and the guests are changed through libvirtd: start it for that if need be.
	if [ -n "$(our_domains)" ] || [ "$(net_active)" != "$NET_ACTIVE" ] ||
	   [ "$([ -e "$NET_AUTOSTART_LINK" ] && echo 1 || echo 0)" != "$NET_AUTO" ]; then
		start_libvirtd || ok=1
		for d in $(our_domains); do
			"${VIRSH[@]}" destroy "$d" >/dev/null 2>&1
			"${VIRSH[@]}" undefine --nvram "$d" >/dev/null 2>&1 ||
				"${VIRSH[@]}" undefine "$d" >/dev/null 2>&1
		done
		if [ "$NET_AUTO" = 1 ]; then "${VIRSH[@]}" net-autostart default >/dev/null 2>&1
		else "${VIRSH[@]}" net-autostart --disable default >/dev/null 2>&1; fi
		if [ "$NET_ACTIVE" = 1 ] && [ "$(net_active)" = 0 ]; then
			"${VIRSH[@]}" net-start default >/dev/null 2>&1 || ok=1
		elif [ "$NET_ACTIVE" = 0 ] && [ "$(net_active)" = 1 ]; then
			"${VIRSH[@]}" net-destroy default >/dev/null 2>&1 || ok=1
		fi
		rm -f "$IMAGES/$PREFIX"-*.qcow2	# undefine may have left none, but a start may have
	fi
	# After the network: its autostart flag goes back through libvirtd, not behind its back.
	restore_files || ok=1
	if [ "$LIBVIRTD_UP" = 1 ]; then start_libvirtd || ok=1; else stop_libvirtd || ok=1; fi
	if [ "$VIRTLOGD_UP" = 1 ]; then start_virtlogd || ok=1; else stop_virtlogd || ok=1; fi
	if ! diff -u "$STATE_DIR/fingerprint" <(fingerprint) >&2; then
		log "restore: the host differs from its baseline (above)"; ok=1
	fi
	[ $ok = 0 ] && rm -f "$BASELINE" "$STATE_DIR/fingerprint" "$STATE_DIR"/journal.jsonl
	return $ok
}

# ---- steps: each puts one part of the host into a state ----------------------------------------
step_healthy() {
	restore_node /dev/kvm 'character special file a:e8 660 0 0' && chgrp kvm /dev/kvm ||
		{ log "healthy: cannot make /dev/kvm 0660 root:kvm"; return 1; }
	[ -n "$(pkg_version dnsmasq-base)" ] || { log "healthy: dnsmasq-base is not installed"; return 1; }
	start_virtlogd || { log "healthy: virtlogd does not start"; return 1; }
	start_libvirtd || return 1
	# One restart if it does not answer: a libvirtd that saw no QEMU never looks again.
	settle_libvirtd || { stop_libvirtd && start_libvirtd && settle_libvirtd; } ||
		{ log "healthy: libvirtd does not answer virsh version"; return 1; }
	[ "$(net_active)" = 1 ] || "${VIRSH[@]}" net-start default >/dev/null ||
		{ log "healthy: the default network does not start"; return 1; }
}
step_fresh() { :; }
step_kvm_mode_0600() { chown root:root /dev/kvm && chmod 0600 /dev/kvm; }
step_kvm_mode_0660_root() { chown root:root /dev/kvm && chmod 0660 /dev/kvm; }
step_kvm_remove() { rm /dev/kvm; }
step_tun_remove() { rm /dev/net/tun; }
step_qemu_move() { mv "$QEMU_BIN" "$QEMU_HIDDEN"; }
step_libvirtd_stop() { stop_libvirtd; }
step_libvirtd_restart() { stop_libvirtd && start_libvirtd; }
# As right after boot or an upgrade: no capability cache, so the first QEMU probe is still running.
step_libvirtd_restart_cold() { stop_libvirtd && rm -f "$CAPS_CACHE"/*.xml && start_libvirtd; }
step_virtlogd_stop() { stop_virtlogd; }
step_net_stop() {
	[ "$(net_active)" = 1 ] || return 0
	start_libvirtd && "${VIRSH[@]}" net-destroy default >/dev/null
}
step_dnsmasq_remove() {
	local v; v=$(pkg_version dnsmasq-base)
	[ -n "$v" ] || return 0
	# A copy to put back without the network; apt-get install is the fallback.
	(cd "$STATE_DIR" && apt-get download -q "dnsmasq-base=$v" >/dev/null 2>&1) ||
		cp /var/cache/apt/archives/dnsmasq-base_*.deb "$STATE_DIR/" 2>/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get remove -y -q dnsmasq-base 9>&- >/dev/null
}
# What the doctor advises and a sysadmin then does; its error is libvirt's answer for the state.
step_admin_net_start() {
	PREP_ERR=$("${VIRSH[@]}" net-start default 2>&1 >/dev/null) && PREP_ERR=
	return 0
}
step_fix_apply() {
	(cd / && find "${FIX_PATHS[@]}" 2>/dev/null | sort) >"$STATE_DIR/files.list"
	(cd / && tar -cpf "$STATE_DIR/files.tar" "${FIX_PATHS[@]}" 2>/dev/null)
	"$VD" fix --apply --yes --journal "$STATE_DIR/journal.jsonl" 9>&- >"$WORK/fix.out" 2>&1
	FIX_RC=$?
	log "fix --apply --yes: exit $FIX_RC"
	return 0
}

# ---- guests ---------------------------------------------------------------------------------
# The first line of libvirt's error that says something ("Failed to create domain from FILE" and
# "failed to connect to the hypervisor" only say that it failed).
err_line() {
	sed -e 's/^error: //' -e 's/^ERROR *//' | grep -v -e '^Failed to create domain from' \
		-e '^failed to connect to the hypervisor' -e '^Domain installation does not' \
		-e '^$' -e '^WARNING' -e '^Starting install' -e '^Creating domain' \
		-e '^Domain creation completed' -e '^Failed to start network' | head -n1 | sed 's/^ *//' | cut -c1-200
}

# A guest "starts" when it is a kvm domain, still running after GUEST_WAIT s, with QEMU on KVM.
guest_check() {	# guest_check NAME -> '' or why not
	local name=$1 pid xml type cmd
	sleep "$GUEST_WAIT"
	[ "$("${VIRSH[@]}" domstate "$name" 2>/dev/null | head -n1)" = running ] ||
		{ echo "not running after ${GUEST_WAIT} s: $(tail -n3 "/var/log/libvirt/qemu/$name.log" 2>/dev/null | err_line)"; return; }
	# Whole outputs, then grep: grep -q under pipefail would fail the pipe with SIGPIPE.
	xml=$("${VIRSH[@]}" dumpxml "$name" 2>/dev/null)
	type=$(sed -n "s/^<domain type='\([a-z]*\)'.*/\1/p" <<<"$xml")
	[ "$type" = kvm ] || { echo "started as a domain of type '$type', not kvm (libvirt fell back)"; return; }
	pid=$(cat "/run/libvirt/qemu/$name.pid" 2>/dev/null)
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	grep -Eq 'accel=kvm|-accel kvm|-enable-kvm' <<<"$cmd" ||
		{ echo "QEMU (pid ${pid:-?}) not running with KVM acceleration"; return; }
}

guest_minimal() {	# prints '' when it started, else libvirt's error
	local name=$PREFIX-min xml=$WORK/minimal.xml err
	sed "s/@NAME@/$name/" "$HERE/minimal.xml" >"$xml"
	if ! err=$(timeout 180 "${VIRSH[@]}" create "$xml" 2>&1 >/dev/null); then
		printf '%s\n' "${err:-virsh create timed out}"; return
	fi
	guest_check "$name"
	"${VIRSH[@]}" destroy "$name" >/dev/null 2>&1
}

guest_virt_install() {	# guest_virt_install TAG [ARGS...]: virt-install --import with its defaults
	local tag=$1 name=$PREFIX-$1 disk=$IMAGES/$PREFIX-$1.qcow2 err why; shift
	qemu-img create -q -f qcow2 "$disk" 64M || { echo "qemu-img create failed"; return; }
	if err=$(timeout 240 virt-install --connect qemu:///system --import \
			--osinfo detect=on,require=off --name "$name" --memory 64 \
			--disk "path=$disk" --noautoconsole "$@" 2>&1 >/dev/null); then
		why=$(guest_check "$name")
	else
		why=$(printf '%s\n' "${err:-virt-install timed out}")
	fi
	"${VIRSH[@]}" destroy "$name" >/dev/null 2>&1
	"${VIRSH[@]}" undefine --nvram "$name" >/dev/null 2>&1 || "${VIRSH[@]}" undefine "$name" >/dev/null 2>&1
	rm -f "$disk"
	printf '%s' "$why"
	: "$tag"
}

# ---- one state ------------------------------------------------------------------------------
run_state() {	# run_state NAME BASE STEPS CHECK CAUSE NOFAIL MUST
	local name=$1 base=$2 steps=$3 s t0 advised rc=0 tw=$SECONDS
	WORK=$(mktemp -d /tmp/vd-reality.XXXXXX)
	PREP_ERR= FIX_RC=
	lock
	t0=$SECONDS	# the state's own time: the wait for the lock is others' tests
	restore || { log "$name: the host could not be restored before the state"; unlock; return 2; }
	save_baseline || { unlock; return 2; }
	log "$name: $base + $steps"
	for s in $base ${steps//,/ }; do
		[ "$s" = - ] && continue
		"step_$s" || { log "$name: step $s failed (line ${BASH_LINENO[0]})"; rc=2; break; }
	done
	if [ $rc = 0 ]; then
		"$VD" --format json -o "$WORK/doctor.json" doctor --no-boot 9>&- 2>"$WORK/doctor.err"
		"$VD" --format json -o "$WORK/doctor-boot.json" doctor 9>&- 2>>"$WORK/doctor.err"
		virt-host-validate qemu >"$WORK/vhv.out" 2>&1
		printf '%s' "$PREP_ERR" >"$WORK/prep.err"
		guest_minimal >"$WORK/minimal.err"
		# When the minimal domain fails, the rules ask nothing of virt-install, and with /dev/kvm
		# unusable it takes two minutes to fail the same way: skipped unless VD_REALITY_FULL=1.
		if [ -s "$WORK/minimal.err" ] && [ "${VD_REALITY_FULL:-0}" != 1 ]; then
			echo skip >"$WORK/vi.err"; echo skip >"$WORK/advised.err"
		else
			guest_virt_install vi >"$WORK/vi.err"
			advised=$(jq -r '.checks[] | select(.id=="cpu.guest_model") | .details.advised_virt_install // empty' \
				"$WORK/doctor.json" 2>/dev/null)
			# The contract (docs/report.md) is the command, "virt-install --cpu MODEL": its options
			# are what this guest adds to the others' defaults.
			advised=${advised#virt-install}
			if [ -n "$advised" ]; then
				# shellcheck disable=SC2086  # the advice is options, split as a shell user would
				guest_virt_install vi-advised $advised >"$WORK/advised.err"
			else
				echo n/a >"$WORK/advised.err"
			fi
		fi
		[ -n "$FIX_RC" ] && echo "$FIX_RC" >"$WORK/fix.rc"
	fi
	restore || { log "$name: restore failed"; rc=2; }
	unlock
	log "$name: done in $((SECONDS - t0)) s under the lock (waited $((t0 - tw)) s for it)"
	[ $rc = 0 ] && /usr/bin/python3 "$HERE/judge.py" "$WORK" "$@" >>"$RESULTS"
	[ "${VD_REALITY_KEEP:-0}" = 1 ] && log "$name: kept $WORK" || rm -rf "$WORK"
	return $rc
}

# ---- the kill test: SIGKILL a run mid-state, then a new run must bring the host back ---------
kill_test() {
	local before after pid
	lock
	restore || die "kill test: cannot restore first"
	before=$(fingerprint)
	# The child runs under our lock (VD_REALITY_LOCK_HELD), so nobody else sees the host between
	# the kill and the restore.
	VD_REALITY_LOCK_HELD=1 setsid "$0" --only qemu_missing >/dev/null 2>&1 &
	pid=$!
	# At once: with QEMU gone the whole state (libvirtd restart, doctor, a guest refused at once)
	# takes about 3 s, and a second's grace let it finish and restore before the kill.
	wait_for 1200 test -e "$QEMU_HIDDEN" || { kill -KILL -- -"$pid"; die "kill test: the state never began"; }
	kill -KILL -- -"$pid"; wait "$pid" 2>/dev/null
	[ -e "$QEMU_BIN" ] && die "kill test: $QEMU_BIN is back already: the kill did not land mid-state"
	[ -f "$BASELINE" ] || die "kill test: no baseline left behind"
	log "kill test: killed mid-state; $QEMU_BIN is missing, the baseline is on disk; restoring"
	VD_REALITY_LOCK_HELD=1 "$0" --restore || die "kill test: --restore failed"
	after=$(fingerprint)
	unlock
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") >&2; die "kill test: FAILED: the host did not come back"
	fi
	log "kill test: passed: the host came back ($(echo "$before" | tr '\n' ';'))"
}

# ---- main -----------------------------------------------------------------------------------
main() {
	local only=() restore_only=0 kill=0 name base steps check cause nofail must n=0 bad=0 r
	while [ $# -gt 0 ]; do
		case $1 in
		--only) only+=("$2"); shift 2 ;;
		--restore) restore_only=1; shift ;;
		--kill-test) kill=1; shift ;;
		--list) grep -v '^#' "$STATES" | awk '{print $1}'; exit 0 ;;
		*) die "usage: reality.sh [--only STATE]... [--restore] [--kill-test] [--list]" ;;
		esac
	done
	if [ "$(id -u)" != 0 ]; then echo "SKIP: the reality suite changes the host and needs root"; exit 0; fi
	for t in libvirtd virtlogd virsh virt-install virt-host-validate qemu-img jq; do
		command -v "$t" >/dev/null || { echo "SKIP: the reality suite needs $t"; exit 0; }
	done
	# Moved away by qemu_missing in a run that was killed: the restore puts it back.
	[ -e "$QEMU_BIN" ] || [ -e "$QEMU_HIDDEN" ] || { echo "SKIP: the reality suite needs $QEMU_BIN"; exit 0; }
	[ -x "$VD" ] || die "$VD not built (make)"
	trap 'restore_on_exit' EXIT
	trap '[ -n "${LOCK_WAITER:-}" ] && kill "$LOCK_WAITER" 2>/dev/null; exit 130' INT TERM
	if [ $restore_only = 1 ]; then
		lock; restore; r=$?; unlock; trap - EXIT; exit $r
	fi
	if [ $kill = 1 ]; then kill_test; trap - EXIT; exit 0; fi
	RESULTS=$(mktemp /tmp/vd-reality-results.XXXXXX)
	while IFS=$'\t' read -r name base steps check cause nofail must; do
		[ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]] && continue
		n=$((n + 1))
		run_state "$name" "$base" "$steps" "$check" "$cause" "$nofail" "$must" </dev/null || bad=$((bad + 1))
	done < <(grep -v -e '^#' -e '^$' "$STATES" | tr -s '\t')
	[ $n -gt 0 ] || die "no such state: ${only[*]}"
	/usr/bin/python3 "$HERE/judge.py" --table "$RESULTS" "$bad"
	r=$?
	rm -f "$RESULTS"
	exit $r
}

restore_on_exit() {
	local r=$?
	# Stopped mid-state: put the host back before the lock goes, or the next holder finds the
	# state; stopped while waiting for the lock (or with a baseline from a killed run): take it.
	if [ -f "$BASELINE" ]; then
		[ "${LOCKED:-0}" = 1 ] || lock
		restore; unlock
	fi
	exit $r
}

main "$@"
