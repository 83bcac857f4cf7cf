#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run by tests/package.sh with the .deb installed (and the lock held): the package's own
# binary plans from its own data in an unrelated directory, and the timer is not enabled.
# Usage: tests/package-installed.sh TMPDIR (which has cwd/data/distros planted)
set -eu
tmp=$1
[ -x /usr/bin/virt-doctor ] || { echo "no /usr/bin/virt-doctor"; exit 1; }
out=$(cd "$tmp/cwd" && env -u VIRT_DOCTOR_DATADIR /usr/bin/virt-doctor fix 2>&1) || [ $? -le 2 ] ||
	{ echo "fix: $out"; exit 1; }
case "$out" in *Planted*) echo "fix planned from the current directory"; exit 1 ;; esac
echo "$out" | grep -q '^distro data: debian.ini (Debian, ID=debian)' || { echo "fix: $out"; exit 1; }
out=$(cd /tmp && /usr/bin/virt-doctor fix 2>&1) || [ $? -le 2 ] || { echo "fix in /tmp: $out"; exit 1; }
for d in /etc/systemd/system/*.wants; do
	[ -e "$d/virt-doctor.timer" ] && { echo "the timer was enabled: $d"; exit 1; }
done
[ -f /lib/systemd/system/virt-doctor.timer ] || { echo "no timer unit"; exit 1; }
man -w virt-doctor >/dev/null 2>&1 || { echo "man page not found"; exit 1; }
echo "installed package: fix plans from /usr/share/virt-doctor in any directory; timer disabled"
