#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: time virt-doctor against the floor program, the installed peers and the cost of
# its own slow probes, with libvirtd stopped and running, in one run; print ratios of medians.
# It holds the shared libvirt lock throughout (it starts and stops libvirtd, as the tests do).
# Usage: bench/run.sh BUILD_DIR [RUNS]
set -eu
build=${1:-build}
runs=${2:-31}
here=$(dirname "$0")
lock=/run/lock/virt-doctor-libvirt.lock
if [ "$(id -u)" = 0 ] && command -v flock >/dev/null && touch "$lock" 2>/dev/null; then
	echo "bench: waiting for $lock (libvirt tests hold it while they run)"
	exec flock -w 900 "$lock" /usr/bin/python3 "$here/bench.py" "$build" "$runs"
fi
exec /usr/bin/python3 "$here/bench.py" "$build" "$runs" --no-libvirtd
