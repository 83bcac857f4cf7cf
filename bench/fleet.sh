#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench (fleet part): generate 10,000 reports from real ones and time `virt-doctor fleet DIR`
# (median of RUNS runs per output format). Goal: under 1 s on a 2-core machine. Not exec: the
# EXIT trap removes the generated fleet.
# Usage: bench/fleet.sh BUILD_DIR [COUNT] [RUNS]
set -eu
build=${1:-build}
count=${2:-10000}
runs=${3:-7}
here=$(dirname "$0")
dir=$(mktemp -d /tmp/vd-bench-fleet.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
/usr/bin/python3 "$here/gen-fleet.py" --bin "$build/virt-doctor" --fixtures "$here/../tests/fixtures" \
	--out "$dir/fleet" --count "$count" --seed 42 --bad
/usr/bin/python3 - "$build/virt-doctor" "$dir/fleet" "$runs" "$count" <<'PY'
import statistics, subprocess, sys, time
vd, fleet, runs, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"bench fleet: {count} reports (+8 bad files), median of {runs} runs")
for fmt in ("text", "json", "csv"):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([vd, "fleet", "--format", fmt, fleet], stdout=subprocess.DEVNULL)
        t.append(time.perf_counter() - t0)
    med = statistics.median(t) * 1000
    print(f"  fleet --format {fmt:5s} {med:8.1f} ms   (min {min(t)*1000:.1f}, max {max(t)*1000:.1f}; goal < 1000 ms)")
PY
