#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run contrib/ansible/site.yml for real against localhost with the built binary: install, run,
# fetch, fleet merge. Then check that a failing play fails this script. SKIP when no ansible.
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
		-e virt_doctor_install_path="$tmp/bin/virt-doctor" \
		-e virt_doctor_report_dir="$tmp/host" \
		-e virt_doctor_fetch_dir="$tmp/reports" \
		-e virt_doctor_fleet_summary="$tmp/fleet.json" \
		"$@"
}

mkdir -p "$tmp/bin"
play -e virt_doctor_binary="$build/virt-doctor" > "$tmp/log" 2>&1 || {
	cat "$tmp/log"; echo "ansible.sh: FAIL: the playbook failed"; exit 1; }
fail() { cat "$tmp/log"; echo "ansible.sh: FAIL: $*"; exit 1; }
[ -x "$tmp/bin/virt-doctor" ] || fail "binary not installed"
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
	play -e virt_doctor_build_dir="$tmp/src" -e virt_doctor_fleet_binary="$tmp/bin/virt-doctor" \
		> "$tmp/log" 2>&1 || fail "the build-from-source play failed"
	if [ ! -x "$tmp/src/build/virt-doctor" ] || [ ! -f "$tmp/reports/localhost.json" ]; then
		fail "build-from-source play did not build, run and fetch"
	fi
	grep -q "Fleet: 1 report files, 1 hosts merged" "$tmp/log" || fail "fleet summary not shown"
	echo "ansible.sh: build-from-source play built, ran, fetched and merged"
else
	echo "SKIP: not a git checkout: the build-from-source path (git archive) not tested"
fi

# A missing binary must fail the play, and the play's failure must reach our exit status.
if play -e virt_doctor_binary="$tmp/no-such-binary" > "$tmp/log2" 2>&1; then
	cat "$tmp/log2"; echo "ansible.sh: FAIL: a play with a missing binary succeeded"; exit 1
fi
echo "ansible.sh: a play with a missing binary fails, as it must"
echo "ansible.sh: PASS"
