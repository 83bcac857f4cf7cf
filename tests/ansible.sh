#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run contrib/ansible/site.yml for real against localhost with the built binary: install (with
# the data), run, fetch, fleet merge; from source without installing build dependencies; with
# virt_doctor_apply: true only under make check-host (VD_CHECK_HOST=1). Then check that a
# failing play fails this script. SKIP when no ansible.
# Usage: tests/ansible.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
if ! command -v ansible-playbook >/dev/null 2>&1; then
	echo "SKIP: ansible-playbook is not installed (apt-get install ansible): playbook not tested"
	exit 0
fi
tmp=$(mktemp -d /tmp/vd-ansible.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" \
	ANSIBLE_REMOTE_TEMP="$tmp/ansible-remote"

play() {
	ansible-playbook -i localhost, -c local contrib/ansible/site.yml \
		-e virt_doctor_become=false \
		-e virt_doctor_report_dir="$tmp/host" \
		-e virt_doctor_fetch_dir="$tmp/reports" \
		-e virt_doctor_fleet_summary="$tmp/fleet.json" \
		"$@"
}

mkdir -p "$tmp/bin"
binary_play() {
	play -e virt_doctor_binary="$build/virt-doctor" -e virt_doctor_install_path="$tmp/bin/virt-doctor" \
		-e virt_doctor_data_dir="$tmp/data" "$@"
}
binary_play > "$tmp/log" 2>&1 || {
	cat "$tmp/log"; echo "ansible.sh: FAIL: the playbook failed"; exit 1; }
fail() { cat "$tmp/log"; echo "ansible.sh: FAIL: $*"; exit 1; }
[ -x "$tmp/bin/virt-doctor" ] || fail "binary not installed"
[ -f "$tmp/data/debian.ini" ] || fail "the distribution data was not installed with the binary"
# Never a toolchain install on a managed host: the role has no task that runs install-deps.sh.
! grep -q 'install-deps' "$tmp/log" || fail "the play ran install-deps.sh"
[ -f "$tmp/host/report.json" ] || fail "no report on the host"
[ -f "$tmp/reports/localhost.json" ] || fail "report not fetched"
/usr/bin/python3 - "$tmp" <<'PY' || fail "fetched report or fleet summary wrong"
import json, sys
tmp = sys.argv[1]
r = json.load(open(f"{tmp}/reports/localhost.json"))
f = json.load(open(f"{tmp}/fleet.json"))
assert r["kind"] == "report" and r["host"]["live"], r.get("kind")
assert f["kind"] == "fleet" and f["totals"]["hosts"] == 1 and f["totals"]["problems"] == 0, f["totals"]
assert f["hosts"][0]["file"].endswith("/localhost.json") and f["hosts"][0]["verdict"] == r["verdict"]
PY
grep -q "Fleet: 1 report files, 1 hosts merged" "$tmp/log" || fail "fleet summary not shown"
grep -q "failed=0" "$tmp/log" || fail "recap shows failures"
echo "ansible.sh: playbook installed, ran, fetched and merged: $(grep -o 'ok=[0-9]* *changed=[0-9]*' "$tmp/log" | head -1)"

# Without a prebuilt binary the role builds from the git tree on the host (here: localhost).
if git rev-parse --git-dir >/dev/null 2>&1; then
	rm -rf "$tmp/reports" "$tmp/bin/virt-doctor"
	play -e virt_doctor_build_dir="$tmp/src" -e virt_doctor_prefix="$tmp/prefix" \
		-e virt_doctor_fleet_binary="$tmp/prefix/bin/virt-doctor" \
		> "$tmp/log" 2>&1 || fail "the build-from-source play failed"
	if [ ! -x "$tmp/prefix/bin/virt-doctor" ] || [ ! -f "$tmp/reports/localhost.json" ]; then
		fail "build-from-source play did not build, install, run and fetch"
	fi
	[ -f "$tmp/prefix/share/virt-doctor/distros/debian.ini" ] || fail "make install put no data"
	! grep -q 'install-deps' "$tmp/log" || fail "the play ran install-deps.sh"
	# The installed binary plans from its installed data, from any directory.
	(cd / && "$tmp/prefix/bin/virt-doctor" fix > "$tmp/plan" 2>&1) || [ $? -le 2 ] || fail "fix: $(cat "$tmp/plan")"
	grep -q '^distro data: ' "$tmp/plan" || fail "the installed fix found no data: $(cat "$tmp/plan")"
	grep -q "Fleet: 1 report files, 1 hosts merged" "$tmp/log" || fail "fleet summary not shown"
	echo "ansible.sh: build-from-source play built, ran, fetched and merged"
else
	echo "SKIP: not a git checkout: the build-from-source path (git archive) not tested"
fi

# virt_doctor_apply: true runs fix --apply on the host: only under make check-host
# (VD_CHECK_HOST=1). One fix, sysctl.enable_ip_forward, put back afterwards.
if [ "${VD_CHECK_HOST:-}" != 1 ]; then
	echo "SKIP: virt_doctor_apply: true changes the host: make check-host"
elif [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: virt_doctor_apply: true needs root"
else
	conf=/etc/sysctl.d/60-virt-doctor-ip-forward.conf
	had_conf=false; [ -e "$conf" ] && had_conf=true
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	rm -rf "$tmp/reports"
	rc=0
	binary_play -e virt_doctor_apply=true \
		-e '{"virt_doctor_fix_args": ["--only", "sysctl.enable_ip_forward"]}' > "$tmp/log" 2>&1 || rc=$?
	$had_conf || rm -f "$conf"
	echo "$fwd" > /proc/sys/net/ipv4/ip_forward
	[ $rc -eq 0 ] || fail "the play with virt_doctor_apply: true failed"
	grep -q 'sysctl.enable_ip_forward' "$tmp/log" || fail "the apply's report was not shown"
	grep -q 'Apply the fixes virt-doctor knows' "$tmp/log" || fail "the apply task did not run"
	echo "ansible.sh: virt_doctor_apply: true applied sysctl.enable_ip_forward and reported it (put back)"
fi

# A missing binary must fail the play, and the play's failure must reach our exit status.
if play -e virt_doctor_binary="$tmp/no-such-binary" -e virt_doctor_install_path="$tmp/bin/x" \
	> "$tmp/log2" 2>&1; then
	cat "$tmp/log2"; echo "ansible.sh: FAIL: a play with a missing binary succeeded"; exit 1
fi
echo "ansible.sh: a play with a missing binary fails, as it must"
echo "ansible.sh: PASS"
